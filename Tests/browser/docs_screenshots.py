"""Re-makes docs/login.png, docs/demo.png and docs/chooser.png: `gatehouse demo` on free
ports, the dev IdP's login page, alice's whoami page after sign-in, and the provider chooser
of `gatehouse demo --config examples/providers.yaml`. Not a test; run it by hand:

    .venv/bin/python Tests/browser/docs_screenshots.py
"""
from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from selenium import webdriver
from selenium.webdriver.chrome.service import Service

sys.path.insert(0, str(Path(__file__).resolve().parent))
from pages import DevIdPPages, Stack  # noqa: E402
from servers import ROOT, Demo  # noqa: E402


class _NoShots:
    def take(self, driver, step):
        pass


def main() -> None:
    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=900,1400",
                     "--hide-scrollbars", "--force-device-scale-factor=1"):
        options.add_argument(argument)
    with tempfile.TemporaryDirectory() as directory:
        demo = Demo(Path(directory), access_token_lifetime="300s")
        driver = webdriver.Chrome(options=options, service=Service("/usr/bin/chromedriver"))
        try:
            stack = Stack("demo", demo.base, DevIdPPages(demo.idp_base), {"alice": ("alice", "alice")})
            driver.get(stack.url("/"))
            stack.wait_for_login_page(driver)
            driver.save_screenshot(str(ROOT / "docs/login.png"))
            stack.idp.sign_in(driver, "alice", "alice")
            stack.wait_until_signed_in(driver, "alice")
            driver.save_screenshot(str(ROOT / "docs/demo.png"))
        finally:
            driver.quit()
            demo.stop()
    with tempfile.TemporaryDirectory() as directory:
        demo = Demo(Path(directory), access_token_lifetime="300s", providers_example=True)
        driver = webdriver.Chrome(options=options, service=Service("/usr/bin/chromedriver"))
        try:
            driver.set_window_size(900, 700)
            driver.get(demo.base + "/")
            driver.save_screenshot(str(ROOT / "docs/chooser.png"))
        finally:
            driver.quit()
            demo.stop()
    print("wrote docs/login.png, docs/demo.png and docs/chooser.png")


if __name__ == "__main__":
    main()
