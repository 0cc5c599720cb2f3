"""What the tests know about the pages they drive: the two identity providers' login (and
consent) pages, the application behind the gateway, and the gateway's own pages."""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from selenium.common.exceptions import StaleElementReferenceException, TimeoutException
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support.ui import WebDriverWait

WAIT_SECONDS = 30


def wait_for(driver: WebDriver, condition: Callable[[WebDriver], object], what: str, seconds: float = WAIT_SECONDS):
    """Waits until `condition(driver)` is truthy; the failure names `what`, the URL and the title.
    An element that goes stale while the condition reads it (the page navigated in between)
    counts as "not yet", and the condition is asked again."""
    try:
        return WebDriverWait(
            driver, seconds, poll_frequency=0.1, ignored_exceptions=(StaleElementReferenceException,)
        ).until(condition)
    except TimeoutException:
        raise AssertionError(
            f"timed out after {seconds} s waiting for {what}; at {driver.current_url!r}, title {driver.title!r}"
        ) from None


def fill(driver: WebDriver, selector: str, text: str) -> None:
    element = driver.find_element(By.CSS_SELECTOR, selector)
    element.clear()
    element.send_keys(text)


class DevIdPPages:
    """The development IdP (`gatehouse demo`, `gatehouse dev-idp`): one login form with
    "Sign in" and "Cancel" (Cancel answers the client `access_denied`)."""

    name = "dev IdP"

    def __init__(self, origin: str):
        self.origin = origin

    def is_login_page(self, driver: WebDriver) -> bool:
        return driver.current_url.startswith(self.origin + "/") and bool(
            driver.find_elements(By.CSS_SELECTOR, "form[action='/authorize'] input#username"))

    def sign_in(self, driver: WebDriver, username: str, password: str) -> None:
        fill(driver, "input#username", username)
        fill(driver, "input#password", password)
        driver.find_element(By.CSS_SELECTOR, "button[name='action'][value='login']").click()

    def refuse(self, driver: WebDriver, username: str, password: str, shots) -> None:
        """Cancel on the login form."""
        driver.find_element(By.CSS_SELECTOR, "button[name='action'][value='cancel']").click()


class DOTPages:
    """django-oauth-toolkit (scripts/idp/): Django's login form, then — only for a client that
    does not skip it — DOT's consent form with "Cancel" and "Authorize"."""

    name = "django-oauth-toolkit"

    def __init__(self, issuer: str):
        match = re.match(r"^(https?://[^/]+)", issuer)
        assert match, issuer
        self.origin = match.group(1)

    def is_login_page(self, driver: WebDriver) -> bool:
        return driver.current_url.startswith(self.origin + "/accounts/login/") and bool(
            driver.find_elements(By.CSS_SELECTOR, "input[name='username']"))

    def sign_in(self, driver: WebDriver, username: str, password: str) -> None:
        fill(driver, "input[name='username']", username)
        fill(driver, "input[name='password']", password)
        driver.find_element(By.CSS_SELECTOR, "form button[type='submit']").click()

    def refuse(self, driver: WebDriver, username: str, password: str, shots) -> None:
        """Signs in, then Cancel on the consent page."""
        self.sign_in(driver, username, password)
        wait_for(driver, lambda d: d.find_elements(By.CSS_SELECTOR, "form#authorizationForm"), "DOT's consent page")
        shots.take(driver, "consent-page")
        driver.find_element(By.CSS_SELECTOR, "form#authorizationForm input[type='submit'][value='Cancel']").click()


@dataclass
class Stack:
    """A gateway, the IdP behind its logins and the application behind it."""

    name: str
    base: str
    idp: DevIdPPages | DOTPages
    users: dict[str, tuple[str, str]]
    processes: list = field(default_factory=list)

    def url(self, path: str) -> str:
        return self.base + path

    # --- the application behind the gateway (the demo's whoami page or the echo app) ---

    def signed_in_user(self, driver: WebDriver) -> str | None:
        """The user the application greets (`Hello, <strong>USER</strong>`), if this is its page."""
        if not driver.current_url.startswith(self.base + "/"):
            return None
        found = driver.find_elements(By.XPATH, "//p[starts-with(normalize-space(.), 'Hello,')]/strong")
        return found[0].text if found else None

    def token_marker(self, driver: WebDriver) -> str:
        """Something that changes with every new access token: the JWT's `jti` on the whoami
        page, the token's fingerprint on the echo app."""
        jti = driver.find_elements(By.XPATH, "//tr[th/code[normalize-space(.)='jti']]/td")
        if jti:
            return jti[0].text
        fingerprint = driver.find_elements(By.ID, "token-fingerprint")
        assert fingerprint and fingerprint[0].text not in ("", "none"), "the application got no access token"
        return fingerprint[0].text

    def sign_out_button(self, driver: WebDriver):
        return driver.find_element(By.XPATH, "//form[@action='/oauth2/sign_out']//button[normalize-space(.)='Sign out']")

    # --- flows ---

    def wait_for_login_page(self, driver: WebDriver, what: str = "the IdP's login page") -> None:
        wait_for(driver, self.idp.is_login_page, what)

    def wait_until_signed_in(self, driver: WebDriver, username: str) -> None:
        wait_for(driver, lambda d: self.signed_in_user(d) == username, f"the application to greet {username}")

    def sign_in(self, driver: WebDriver, username: str, shots, step: str = "") -> None:
        """On the IdP's login page: signs in as `username` and waits for the application's page."""
        self.wait_for_login_page(driver)
        shots.take(driver, f"{step}login-page")
        self.idp.sign_in(driver, *self.users[username])
        self.wait_until_signed_in(driver, username)


def gateway_page(driver: WebDriver) -> tuple[str, str | None]:
    """The heading and the error category (`Error: <code>…</code>`) of a gateway page."""
    heading = driver.find_element(By.TAG_NAME, "h1").text
    codes = driver.find_elements(By.XPATH, "//p[starts-with(normalize-space(.), 'Error:')]/code")
    return heading, codes[0].text if codes else None


def navigation_status(driver: WebDriver) -> int:
    """The HTTP status of the current document (Navigation Timing `responseStatus`)."""
    return driver.execute_script("return performance.getEntriesByType('navigation')[0].responseStatus")


class Shots:
    """Numbered screenshots of one test under `.test-artifacts/screenshots/<test>/`."""

    def __init__(self, directory: Path):
        self.directory = directory
        self.count = 0
        directory.mkdir(parents=True, exist_ok=True)
        for old in directory.glob("*.png"):
            old.unlink()

    def take(self, driver: WebDriver, step: str) -> Path:
        self.count += 1
        path = self.directory / f"{self.count:02d}-{re.sub(r'[^A-Za-z0-9._-]+', '-', step)}.png"
        driver.save_screenshot(str(path))
        return path
