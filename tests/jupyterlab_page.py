"""The attendee's page: a real JupyterLab driven by a real Chromium (Selenium), and what the page shows."""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
INSTALL_HINT = "apt-get install chromium chromium-driver   (Debian/Ubuntu; .ci/run installs them in CI)"
WIDTH, HEIGHT = 1280, 900  # a laptop's browser window
MAX_OUTPUT_PX = 2500  # an output taller than this is a wall of text nobody reads
MAX_SCREENSHOT_PX = 16000  # Chromium's largest capture


def browser_missing() -> str:
    """Why the browser test cannot run here ('' when Chromium and its driver are installed)."""
    missing = [str(p) for p in (CHROMIUM, CHROMEDRIVER) if not p.exists()]
    return f"{' and '.join(missing)} not found; install with: {INSTALL_HINT}" if missing else ""


@contextmanager
def jupyterlab(command: list[str], env: dict[str, str], port: int, token: str, log: Path) -> Iterator[str]:
    """Run the JupyterLab server command until the block ends; yields its base URL."""
    with log.open("w") as out:
        server = subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                urllib.request.urlopen(f"{url}/api/status?token={token}", timeout=2).read()
                break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(
                        f"JupyterLab did not start; its log:\n{log.read_text()[-3000:]}"
                    ) from None
                time.sleep(0.5)
        yield url
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()


def chromium():
    """A headless Chromium through Debian's chromedriver (Selenium never downloads a browser here)."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    profile = tempfile.mkdtemp(prefix="workshop-chromium-")
    for arg in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={profile}",
        f"--window-size={WIDTH},{HEIGHT}",
    ):
        options.add_argument(arg)
    options.set_capability("unhandledPromptBehavior", "accept")  # "leave page?" when moving on
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    driver.profile_dir = profile
    return driver


def quit_browser(driver) -> None:
    """Close the browser and remove its profile."""
    driver.quit()
    shutil.rmtree(driver.profile_dir, ignore_errors=True)


@dataclass
class PageReport:
    """What the page showed after a run: the facts the test asserts on."""

    kernel: str
    prompts: list[str]
    outputs: list[str]
    error_outputs: list[str]
    math: list[str]
    too_wide: list[str]
    code_too_wide: list[str]
    too_long: list[str]
    markdown_text: str
    popups: list[str]
    cut_cells: list[str] = field(default_factory=list)
    unfinished_bars: list[str] = field(default_factory=list)
    seconds: float = 0.0
    notes: list[str] = field(default_factory=list)

    @property
    def last_check(self) -> str:
        """The last ✔ line of the notebook's outputs ('' when none)."""
        lines = [
            line.strip()
            for text in self.outputs
            for line in text.splitlines()
            if line.strip().startswith("✔")
        ]
        return lines[-1] if lines else ""

    @property
    def last_output(self) -> str:
        """The last output's text."""
        return next((text for text in reversed(self.outputs) if text.strip()), "")


# Everything is read in one script: the page as the attendee sees it, after the run.
READ_PAGE = r"""
const panel = document.querySelector('.jp-NotebookPanel:not(.lm-mod-hidden)');
const notebook = panel.querySelector('.jp-Notebook');
const width = notebook.clientWidth;
const text = e => (e.innerText || '').trim();
const outputs = [...panel.querySelectorAll('.jp-OutputArea-output')];
return {
  kernel: text(panel.querySelector('.jp-KernelName') || document.body),
  prompts: [...panel.querySelectorAll('.jp-CodeCell .jp-InputPrompt')].map(text),
  outputs: outputs.map(text),
  error_outputs: outputs.filter(o => o.dataset.mimeType === 'application/vnd.jupyter.stderr').map(text),
  math: [...panel.querySelectorAll('mjx-container, mjx-merror, .MathJax, .MathJax_Display, .jp-RenderedLatex')]
          .map(e => text(e.closest('.jp-Cell') || e).slice(0, 200)),
  too_wide: outputs.filter(o => o.scrollWidth > o.clientWidth + 2 || o.getBoundingClientRect().right >
                                 notebook.getBoundingClientRect().right + 2)
                   .map(o => `${o.scrollWidth}px in ${o.clientWidth}px: ` + text(o).slice(0, 120)),
  code_too_wide: [...panel.querySelectorAll('.jp-CodeCell .cm-scroller')]
                   .filter(c => c.scrollWidth > c.clientWidth + 2)
                   .map(c => `${c.scrollWidth}px in ${c.clientWidth}px: ` +
                             text(c).split('\n').reduce((a, b) => b.length > a.length ? b : a, '').slice(0, 120)),
  too_long: outputs.filter(o => o.getBoundingClientRect().height > arguments[0])
                   .map(o => `${Math.round(o.getBoundingClientRect().height)}px: ` + text(o).slice(0, 120)),
  markdown_text: [...panel.querySelectorAll('.jp-MarkdownOutput')].map(text).join('\n'),
  cut_cells: [...panel.querySelectorAll('.jp-OutputArea-output td')].map(text)
               .filter(t => t.endsWith('...') || t.endsWith('…')).map(t => t.slice(-160)),
  popups: [...document.querySelectorAll('.Toastify__toast, .jp-Dialog')].map(text),
};
"""

BAR = re.compile(r"(\d+)%\|")


class LabPage:
    """One browser tab on the workshop's JupyterLab."""

    def __init__(self, driver, base_url: str, token: str) -> None:
        self.driver, self.base_url, self.token = driver, base_url, token

    def open(self, notebook: str, timeout_s: float = 60) -> None:
        """Open the notebook alone in a fresh workspace and wait for its kernel to be idle."""
        self.driver.get(f"{self.base_url}/lab/tree/{notebook}?reset&token={self.token}")
        self._until(
            lambda: self._js("""
            const p = document.querySelector('.jp-NotebookPanel:not(.lm-mod-hidden)');
            const s = p && p.querySelector('.jp-Notebook-ExecutionIndicator');
            const k = p && p.querySelector('.jp-KernelName');
            return !!(p && p.querySelector('.jp-Cell') && s && s.dataset.status === 'idle'
                      && k && k.innerText.trim() !== 'No Kernel');"""),
            timeout_s,
            f"{notebook} to open with an idle kernel",
        )

    def menu(self, menu: str, command: str) -> None:
        """Click a menu of the menu bar, then one of its items (by JupyterLab command id)."""
        from selenium.webdriver.common.by import By

        bar = self.driver.find_elements(By.CSS_SELECTOR, ".lm-MenuBar-item")
        next(item for item in bar if item.text.strip() == menu).click()
        self._until(
            lambda: self.driver.find_elements(By.CSS_SELECTOR, f'.lm-Menu-item[data-command="{command}"]'),
            10,
            f"menu item {command}",
        )
        self.driver.find_element(By.CSS_SELECTOR, f'.lm-Menu-item[data-command="{command}"]').click()

    def accept_dialog(self, button: str, timeout_s: float = 10) -> None:
        """Click the button of JupyterLab's dialog (e.g. 'Restart')."""
        from selenium.webdriver.common.by import By

        def find():
            return [
                b
                for b in self.driver.find_elements(By.CSS_SELECTOR, ".jp-Dialog button")
                if b.text.strip() == button
            ]

        self._until(find, timeout_s, f"the {button!r} dialog")
        find()[0].click()

    def wait_until_run(self, timeout_s: float, progress=print) -> float:
        """Wait until every queued cell has run and the kernel is idle; returns the seconds waited."""
        started = time.monotonic()
        last_report = started
        state = """
            const p = document.querySelector('.jp-NotebookPanel:not(.lm-mod-hidden)');
            const prompts = [...p.querySelectorAll('.jp-CodeCell .jp-InputPrompt')].map(e => e.innerText.trim());
            const status = p.querySelector('.jp-Notebook-ExecutionIndicator').dataset.status;
            return [status, prompts.filter(t => t.includes('*')).length, prompts.filter(t => /\\d/.test(t)).length,
                    prompts.length];"""
        idle_since, started_running = None, False
        while True:
            status, queued, done, total = self._js(state)
            now = time.monotonic()
            started_running = started_running or queued > 0 or done > 0
            if not started_running and now - started > 60:
                raise TimeoutError("Run All did not start a single cell within 60 s")
            if started_running and status == "idle" and queued == 0:
                idle_since = idle_since or now
                if now - idle_since >= 1.5:  # idle between two cells is not the end
                    return now - started
            else:
                idle_since = None
            if now - started > timeout_s:
                raise TimeoutError(
                    f"the notebook was still running after {timeout_s:.0f} s "
                    f"({done} of {total} cells run, kernel {status})"
                )
            if now - last_report >= 15:
                progress(f"  … {done}/{total} cells run, {now - started:.0f} s")
                last_report = now
            time.sleep(0.5)

    def read(self) -> PageReport:
        """What the page shows now."""
        facts = self._js(READ_PAGE, MAX_OUTPUT_PX)
        report = PageReport(**facts)
        report.unfinished_bars = [
            line[:120]
            for text in report.outputs
            for line in text.splitlines()
            if (m := BAR.search(line)) and m.group(1) != "100"
        ]
        return report

    def screenshot(self, target: Path) -> Path:
        """A PNG of the whole notebook: the window grown to the notebook's height, then restored."""
        target.parent.mkdir(parents=True, exist_ok=True)
        scroller = """
            const p = document.querySelector('.jp-NotebookPanel:not(.lm-mod-hidden)');
            const scroller = p.querySelector('.jp-WindowedPanel-outer') || p.querySelector('.jp-Notebook');"""
        height = self._js(
            scroller + "return scroller.scrollHeight - scroller.clientHeight + window.innerHeight;"
        )
        height = min(int(height) + 40, MAX_SCREENSHOT_PX)
        metrics = {"width": WIDTH, "height": height, "deviceScaleFactor": 1, "mobile": False}
        self.driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", metrics)
        try:
            time.sleep(1)  # layout, and images re-laid out at the new size
            self._js(scroller + "scroller.scrollTop = 0;")
            time.sleep(0.3)
            self.driver.save_screenshot(str(target))
        finally:
            self.driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
        return target

    def shutdown_kernel(self) -> None:
        """Shut the notebook's kernel down (Kernel menu), so the next notebook starts on its own."""
        self.menu("Kernel", "kernelmenu:shutdown")
        try:
            self.accept_dialog("Shut Down", timeout_s=3)
        except TimeoutError:
            pass

    def _js(self, script: str, *args):
        return self.driver.execute_script(script, *args)

    @staticmethod
    def _until(condition, timeout_s: float, what: str):
        deadline = time.monotonic() + timeout_s
        while True:
            try:
                value = condition()
            except Exception:  # the page is still building
                value = None
            if value:
                return value
            if time.monotonic() > deadline:
                raise TimeoutError(f"gave up waiting for {what} after {timeout_s:.0f} s")
            time.sleep(0.25)
