"""The org chart page in a real browser: sign in once, search, expand, navigate, share."""

import re

from playwright.sync_api import Page, expect

from app.demo.org import DemoPerson
from tests.app.browser.conftest import LOOP, OUTSIDER, DemoSite, Traffic, screenshot

CHART = "/orgchart"


def sign_in(page: Page, site: DemoSite, path: str = CHART, token: str | None = None) -> None:
    page.goto(site.base_url + path)
    expect(page.locator("#sign-in")).to_be_visible()
    page.fill("#token", token or site.graphql_token)
    page.click("#token-form button[type=submit]")
    expect(page.locator("#sign-in")).to_be_hidden()


def focus_name(page: Page) -> str:
    return page.locator("#focus-name").inner_text()


def item(page: Page, site: DemoSite, person: DemoPerson, within: str = "") -> str:
    return f"{within} li.tree-item[data-user='{site.id_of(person)}']".strip()


def expect_person(page: Page, site: DemoSite, person: DemoPerson) -> None:
    expect(page).to_have_url(re.compile(re.escape(f"{CHART}?user={site.id_of(person)}") + "$"))
    expect(page.locator("#focus-name")).to_contain_text(person.display_name)


def a_manager_of_managers(site: DemoSite) -> tuple[DemoPerson, DemoPerson]:
    """A report of the CEO with reports of their own, and one of those who has reports too."""
    ceo = site.org.people[0]
    for head in site.reports(ceo):
        for below in site.reports(head):
            if site.reports(below):
                return head, below
    raise AssertionError("the demo org has no three management levels under the CEO")


def test_sign_in_search_expand_navigate_and_share(
    page: Page, demo_site: DemoSite, traffic: Traffic
) -> None:
    site = demo_site
    page.goto(site.base_url + CHART)
    expect(page.locator("#sign-in")).to_be_visible()
    expect(page.locator("#search")).to_be_disabled()
    expect(page.locator("#chart")).to_be_hidden()
    assert traffic.graphql_posts() == []  # nothing is asked before there is a token
    screenshot(page, "orgchart-sign-in")

    page.fill("#token", site.graphql_token)
    page.keyboard.press("Enter")
    ceo = site.org.people[0]
    expect_person(page, site, ceo)  # a single top person: the chart opens on them
    expect(page.locator("#tenant-name")).to_have_text("Default tenant")
    card = page.locator(".person-card")
    expect(card).to_contain_text(ceo.title)
    expect(card).to_contain_text(ceo.email)
    expect(card).to_contain_text(ceo.work_phone)
    expect(card).to_contain_text(f"{len(site.reports(ceo))} direct reports")
    expect(card).to_contain_text(f"{len(site.org.people) - 1} in total")
    expect(page.locator("#reports-heading")).to_have_text(
        f"Direct reports ({len(site.reports(ceo))})"
    )
    # Opening costs the same few queries whatever the size of the org: tenant, roots, person.
    assert len(traffic.graphql_posts()) == 3
    # Readable at 1280x720: the person and the first reports are on screen without scrolling.
    box = card.bounding_box()
    assert box is not None
    assert box["y"] + box["height"] <= 720
    first_report = page.locator("#reports > li.tree-item").first.bounding_box()
    assert first_report is not None
    assert first_report["y"] + first_report["height"] <= 720
    screenshot(page, "orgchart-top")

    # Expand two levels: a department head with the mouse, one of their managers by keyboard.
    head, below = a_manager_of_managers(site)
    page.click(f"{item(page, site, head)} > .tree-row > button.toggle")
    for report in site.reports(head):
        expect(page.locator(item(page, site, report, item(page, site, head)))).to_contain_text(
            report.display_name
        )
    toggle = page.locator(f"{item(page, site, below)} > .tree-row > button.toggle")
    toggle.focus()
    page.keyboard.press("Enter")
    expect(toggle).to_have_attribute("aria-expanded", "true")
    second_level = page.locator(f"{item(page, site, below)} > ul.tree-children > li.tree-item")
    expect(second_level).to_have_count(len(site.reports(below)))
    shown = set(second_level.locator(".card .name").all_inner_texts())
    assert {re.sub(r"\s*Inactive$", "", name) for name in shown} == {
        p.display_name for p in site.reports(below)
    }
    screenshot(page, "orgchart-expanded")
    # Collapsing hides them again.
    toggle.press("Enter")
    expect(second_level.first).to_be_hidden()

    # Search by part of a userName and choose with the keyboard.
    deep = next(p for p in reversed(site.org.people) if p.level >= 3 and p.active)
    page.fill("#search", deep.user_name.split("@")[0])
    option = page.locator("#search-results [role=option]", has_text=deep.display_name)
    expect(option.first).to_be_visible()
    screenshot(page, "orgchart-search")
    index = (
        page.locator("#search-results [role=option]")
        .all_inner_texts()
        .index(option.first.inner_text())
    )
    for _ in range(index + 1):
        page.keyboard.press("ArrowDown")
    page.keyboard.press("Enter")
    expect_person(page, site, deep)
    chain = site.chain(deep)
    chain_cards = page.locator("#chain .card .name")
    expect(chain_cards).to_have_count(len(chain))
    assert chain_cards.all_inner_texts() == [p.display_name for p in reversed(chain)]
    screenshot(page, "orgchart-person")

    # Navigate to a manager in the chain: the page and the URL follow.
    skip_level = chain[1]
    page.click(f"#chain a.card[data-user='{site.id_of(skip_level)}']")
    expect_person(page, site, skip_level)

    # The URL round-trips: Back, a reload, and a fresh tab given the link.
    page.go_back()
    expect_person(page, site, deep)
    page.reload()
    expect_person(page, site, deep)
    shared = f"{CHART}?user={site.id_of(deep)}"
    fresh = page.context.browser
    assert fresh is not None
    other = fresh.new_context(viewport={"width": 1280, "height": 720})
    try:
        tab = other.new_page()
        sign_in(tab, site, shared)
        expect_person(tab, site, deep)
    finally:
        other.close()
    traffic.assert_stayed_local()


def test_inactive_people_are_marked(page: Page, demo_site: DemoSite, traffic: Traffic) -> None:
    site = demo_site
    leaver = next(p for p in site.org.people if not p.active)
    assert leaver.manager is not None
    manager = site.person(leaver.manager)
    sign_in(page, site, f"{CHART}?user={site.id_of(manager)}")
    expect_person(page, site, manager)
    listed = page.locator(item(page, site, leaver))
    expect(listed.locator(".badge.inactive")).to_have_text("Inactive")
    expect(listed.locator(".card")).to_have_class(re.compile("is-inactive"))
    listed.locator(".card").click()
    expect_person(page, site, leaver)
    expect(page.locator(".person-card .badge.inactive")).to_be_visible()
    traffic.assert_stayed_local()


def test_a_manager_loop_is_shown_not_followed(
    page: Page, demo_site: DemoSite, traffic: Traffic
) -> None:
    site = demo_site
    ann, bob, cy = (site.loop_ids[name] for name in LOOP)
    sign_in(page, site, f"{CHART}?user={ann}", token=site.loops_token)
    expect(page.locator("#focus-name")).to_contain_text("Ann Loop")
    # Ann's chain is Bob, then Cy, whose manager is Ann again: shown once, with a note.
    assert page.locator("#chain .card .name").all_inner_texts() == ["Cy Loop", "Bob Loop"]
    expect(page.locator("#chain .loop")).to_contain_text("Manager loop")
    # Among Ann's reports, Cy is already above: a note instead of a node to expand forever.
    expect(page.locator(f"li.tree-item[data-user='{cy}'] .loop")).to_contain_text("already shown")
    outsider = page.locator(f"li.tree-item[data-user='{site.loop_ids[OUTSIDER]}'] .card")
    expect(outsider).to_contain_text("Dee Loop")
    screenshot(page, "orgchart-loop")
    page.click(f"#chain a.card[data-user='{bob}']")
    expect(page.locator("#focus-name")).to_contain_text("Bob Loop")
    traffic.assert_stayed_local()


def test_an_unknown_person_falls_back_to_the_top(
    page: Page, demo_site: DemoSite, traffic: Traffic
) -> None:
    site = demo_site
    sign_in(page, site, f"{CHART}?user=00000000-0000-4000-8000-000000000000")
    expect(page.locator("#message")).to_contain_text("No one with that id")
    expect(page.locator("#reports > li.tree-item")).to_have_count(1)
    traffic.assert_stayed_local()


def test_a_refused_token_asks_again(page: Page, demo_site: DemoSite, traffic: Traffic) -> None:
    page.goto(demo_site.base_url + CHART)
    page.fill("#token", "bdir_not-a-real-token")
    page.click("#token-form button[type=submit]")
    expect(page.locator("#token-error")).to_contain_text("unknown or revoked")
    expect(page.locator("#sign-in")).to_be_visible()
    traffic.assert_stayed_local()


def test_the_printed_page_is_the_chart_without_controls(
    page: Page, demo_site: DemoSite, traffic: Traffic
) -> None:
    site = demo_site
    head, _ = a_manager_of_managers(site)
    sign_in(page, site, f"{CHART}?user={site.id_of(head)}")
    expect_person(page, site, head)
    page.emulate_media(media="print")
    expect(page.locator("header.top")).to_be_hidden()
    expect(page.locator(".person-card")).to_be_visible()
    expect(page.locator("#reports > li.tree-item").first).to_be_visible()
    screenshot(page, "orgchart-print", full_page=True)
    traffic.assert_stayed_local()
