"""Several providers and step-up in a real browser, against `gatehouse demo --config
examples/providers.yaml` (two development IdPs behind one gateway)."""
from __future__ import annotations

from selenium.webdriver.common.by import By

from pages import DevIdPPages, DOTPages, Stack, fill, gateway_page, navigation_status, wait_for

CORP_USERS = {"alice": ("alice", "alice"), "bob": ("bob", "bob")}
PARTNER_USERS = {"carol": ("carol", "carol")}


def chooser_links(browser) -> dict[str, str]:
    """The chooser page's choices: provider name → link."""
    links = browser.find_elements(By.CSS_SELECTOR, "ul.providers a")
    return {link.text: link.get_attribute("href") for link in links}


def test_the_chooser_sends_each_person_to_their_provider(providers_demo, browser, shots):
    """A page allowing both providers shows the chooser (no script, keyboard-reachable links);
    carol picks Partner Inc., signs in there and lands on the page she asked for; the corp-only
    admin route then sends her to corp's login instead of letting her in."""
    partner = Stack("partner", providers_demo.base, DevIdPPages(providers_demo.partner_base), PARTNER_USERS)
    browser.get(partner.url("/hello?from=chooser"))
    wait_for(browser, lambda d: bool(chooser_links(d)), "the chooser page")
    shots.take(browser, "chooser")
    assert gateway_page(browser)[0] == "Sign in"
    links = chooser_links(browser)
    assert set(links) == {"Sign in with Example Corp", "Sign in with Partner Inc."}
    assert not browser.find_elements(By.CSS_SELECTOR, "script")
    browser.find_element(By.LINK_TEXT, "Sign in with Partner Inc.").click()
    partner.sign_in(browser, "carol", shots, "partner-")
    assert browser.current_url == partner.url("/hello?from=chooser")
    assert "partner" in browser.page_source  # X-Forwarded-Provider on the whoami page
    shots.take(browser, "carol-signed-in")

    browser.get(partner.url("/admin"))
    corp = DevIdPPages(providers_demo.idp_base)
    wait_for(browser, corp.is_login_page, "corp's login page (the admin route admits corp only)")
    shots.take(browser, "sent-to-corp")


def test_step_up_asks_for_the_second_factor_and_comes_back(providers_demo, browser, shots):
    """alice signs in at corp with a password; the admin route asks for `mfa`: the IdP shows
    its one-time-code field, and after it she is on the admin page under a new session."""
    corp = Stack("corp", providers_demo.base, DevIdPPages(providers_demo.idp_base), CORP_USERS)
    browser.get(corp.url("/oauth2/start?provider=corp&rd=%2F"))
    corp.sign_in(browser, "alice", shots, "password-")
    before = browser.get_cookie("gatehouse")["value"]

    browser.get(corp.url("/admin/settings"))
    wait_for(browser, lambda d: bool(d.find_elements(By.CSS_SELECTOR, "input#code")), "the one-time code field")
    shots.take(browser, "second-factor")
    fill(browser, "input#username", "alice")
    fill(browser, "input#password", "alice")
    fill(browser, "input#code", "123456")
    browser.find_element(By.CSS_SELECTOR, "button[name='action'][value='login']").click()
    corp.wait_until_signed_in(browser, "alice")
    assert browser.current_url == corp.url("/admin/settings")
    assert navigation_status(browser) == 200
    assert browser.get_cookie("gatehouse")["value"] != before, "a step-up is a new session"
    shots.take(browser, "admin-after-step-up")


def test_two_real_providers_through_the_chooser(dot_providers_gateway, browser, shots):
    """`gatehouse serve` with two django-oauth-toolkit instances: carol signs in at partner
    through the chooser; the corp-only path then sends her to corp's login page, where bob
    signs in; each time the app sees who and from which provider."""
    gateway, corp_issuer, partner_issuer = dot_providers_gateway
    partner = Stack("partner", gateway.base, DOTPages(partner_issuer), {"carol": ("carol", "carol-password-1")})
    browser.get(partner.url("/reports?q=1"))
    wait_for(browser, lambda d: bool(chooser_links(d)), "the chooser page")
    shots.take(browser, "chooser")
    assert set(chooser_links(browser)) == {"Sign in with Corporate SSO", "Sign in with Partner login"}
    browser.find_element(By.LINK_TEXT, "Sign in with Partner login").click()
    partner.sign_in(browser, "carol", shots, "partner-")
    assert browser.current_url == partner.url("/reports?q=1")
    assert "partner" in browser.page_source

    corp = Stack("corp", gateway.base, DOTPages(corp_issuer), {"bob": ("bob", "bob-password-1")})
    browser.get(corp.url("/corp/budget"))
    corp.sign_in(browser, "bob", shots, "corp-")
    assert browser.current_url == corp.url("/corp/budget")
    assert "corp" in browser.page_source
    shots.take(browser, "bob-on-the-corp-route")
