"""The newcomer's demo of real microVMs, in the browser.

The server starts as `make run` starts it (the demo on, as root, QEMU installed): it sets up a local agent
and the Firecracker demo cloud by itself. The newcomer logs in, deploys the Demo microVM, watches it boot in
the Console tab's serial console and opens its screen. Stopped, the server leaves nothing of the demo
running; started again, it runs the agent again and the instance boots again."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.agent.guest import _builder, guest_artifacts
from tests.e2e.conftest import Shoot, log_in
from tests.support.eventually import eventually
from tests.support.fixtures import ADMIN_PASSWORD, api_keys_of, cs_client, fresh_database
from tests.support.server import ServerProcess

pytestmark = [pytest.mark.root, pytest.mark.slow]

MARKER = "SWITCHBOARD-GUEST-BOOTED"
READY = "Demo cloud ready: open http://127.0.0.1:"


def processes_of(directory: Path) -> list[str]:
    """Command lines of the processes whose command line names `directory` (the agent, QEMU, tmux, consoles)."""
    found = []
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            try:
                cmdline = Path(entry.path, "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            except OSError:
                continue
            if str(directory) in cmdline:
                found.append(cmdline)
    return found


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    guest_artifacts()  # the tests' guest cache, shared with the demo (built once)
    root = tmp_path_factory.mktemp("demo-microvm")
    env = {"SWITCHBOARD_DEMO": "1", "SWITCHBOARD_ADMIN_PASSWORD": ADMIN_PASSWORD,
           "SWITCHBOARD_GUEST_DIR": str(_builder().cache_dir())}
    with fresh_database(root) as url:
        process = ServerProcess(data_dir=root / "data", database_url=url, env=env)
        process.start()
        try:
            yield process
        finally:
            process.stop(timeout=120)


def test_deploy_watch_it_boot_open_its_screen_and_restart(server: ServerProcess, page: Page, shoot: Shoot) -> None:
    eventually(lambda: READY in server.log(), what="the demo of real microVMs to be ready", timeout=240)
    assert "Demo: preparing a cloud of real microVMs on this machine" in server.log()
    assert "the demo cloud's instances are pretend" not in server.log()
    base = server.base_url
    log_in(page, base)

    page.get_by_role("link", name="Deploy an instance").first.click()
    expect(page.get_by_role("radio", name=re.compile("Demo Zone"))).to_be_checked()
    expect(page.get_by_role("radio", name=re.compile("Demo microVM"))).to_be_checked()
    page.get_by_role("radio", name=re.compile("Small Instance")).check()
    page.get_by_label("Name", exact=True).fill("micro-1")
    page.get_by_role("button", name="Deploy", exact=True).click()
    expect(page).to_have_url(re.compile(r"/instances/[0-9a-f-]{36}$"))
    expect(page.locator(".page-subtitle [data-state]")).to_have_text("Running", timeout=120_000)
    vm_id = page.url.rsplit("/", 1)[-1]

    # The Console tab: the serial console, followed until the guest says it booted.
    page.get_by_role("tab", name="Console").click()
    panel = page.get_by_role("tabpanel")
    expect(panel.locator("#serial-log")).to_be_visible(timeout=60_000)
    panel.get_by_label(re.compile("Follow")).check()
    expect(panel.locator("#serial-log")).to_contain_text(MARKER, timeout=240_000)
    panel.get_by_label(re.compile("Follow")).uncheck()
    shoot(page, "demo-microvm-console")

    # Its screen, through the server's console proxy.
    panel.get_by_role("button", name="Get a console link").click()
    with page.context.expect_page() as opened:
        panel.get_by_role("link", name="Open the console").click()
    screen = opened.value
    expect(screen.locator("#console-status")).to_have_text("Connected", timeout=30_000)
    expect(screen.locator("#console-screen canvas")).to_be_visible()
    screen.close()

    # Stopped, the server leaves nothing of the demo running.
    data = server.data_dir
    agent_dir = data / "demo" / "agent"
    console_log = next((agent_dir / "log").glob("*/console.log"))
    assert processes_of(agent_dir), "the agent and the guest's VMM run under the demo's directory"
    server.stop(timeout=120)
    assert processes_of(agent_dir) == []
    assert "demo agent: shut down i-" in server.log()  # gracefully, before the agent stopped

    # Started again: the agent runs again and the instance boots again (its serial log keeps every boot).
    server.start()
    eventually(lambda: "the local microVM agent runs again" in server.log(), what="the agent to start again",
               timeout=120)
    eventually(lambda: console_log.read_text(errors="replace").count(MARKER) >= 2,
               what="the instance to boot again", timeout=240)
    admin = cs_client(server, api_keys_of(server))
    assert admin.listVirtualMachines(id=vm_id)["virtualmachine"][0]["state"] == "Running"
    answer = admin.destroyVirtualMachine(id=vm_id, expunge=True)
    eventually(lambda: admin.queryAsyncJobResult(jobid=answer["jobid"])["jobstatus"] == 1,
               what="the instance to be expunged", timeout=120)
    assert list((agent_dir / "volumes").rglob("*.ext4")) == []  # its disk is gone from the host
