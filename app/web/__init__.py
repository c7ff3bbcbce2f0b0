"""The app's own web pages: a landing page, the org chart page, the favicon and their assets."""
