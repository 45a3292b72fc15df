"""Two real Syncthing instances on 127.0.0.1 sharing one folder, for the two-device tests (Debian's syncthing,
1.19; .ci/run installs it). Each has its own config folder; global and local discovery, relays, NAT, usage
and crash reporting and upgrades are off before the first start, and the peer is dialled only at its
loopback address. Trimmed from the measured helper in the team's notes:

- peers are written paused and resumed acceptor first, dialer 0.2 s later (both dialing at once makes one TCP
  connection in which both act as TLS client, which hangs for 20 s); on each resume the dialer gets a fresh
  spelling of the address (`?redial=N`), as Syncthing rate-limits redials of a known one;
- pausing goes through PATCH /rest/config/devices (POST /rest/system/pause returns before it applies);
- `wait_in_sync` first scans both sides (the watcher takes up to 1.5 s), then waits until both are idle, 100 %
  complete for themselves and for the peer, agree on the global counts and have seen each other's latest
  index, twice 0.2 s apart;
- a conflict copy is `NAME.sync-conflict-YYYYMMDD-HHMMSS-WINNER.EXT` (the newer mtime wins); `.stignore` is
  not synced, each device writes its own.
"""

from __future__ import annotations

import contextlib
import copy
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

BINARY = shutil.which("syncthing")
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))
_OFF = {
    "globalAnnounceEnabled": "false", "localAnnounceEnabled": "false", "relaysEnabled": "false",
    "natEnabled": "false", "stunKeepaliveStartS": "0", "startBrowser": "false", "urAccepted": "-1",
    "urSeen": "3", "autoUpgradeIntervalH": "0", "crashReportingEnabled": "false",
    "announceLANAddresses": "false", "reconnectionIntervalS": "5", "minHomeDiskFree": "0",
}  # fmt: skip


def wait_for(check: Callable[[], Any], timeout: float, what: str) -> Any:
    deadline = time.monotonic() + timeout
    while not (found := check()):
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {timeout:g} s waiting for {what}")
        time.sleep(0.05)
    return found


def _free_ports(count: int) -> list[int]:
    sockets = []
    try:
        for _ in range(count):
            sock = socket.socket()
            sock.bind(("127.0.0.1", 0))
            sockets.append(sock)
        return [sock.getsockname()[1] for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


def _die_with_parent() -> None:  # in the child, before exec: SIGTERM when the test process dies
    import ctypes

    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None).prctl(1, signal.SIGTERM, 0, 0, 0)


class Device:
    """One syncthing process: its config folder, its REST API and its listener, on 127.0.0.1."""

    def __init__(self, name: str, root: Path) -> None:
        self.name, self.home, self.folder = name, root / name / "config", root / name / "folder"
        self.key = secrets.token_urlsafe(24)
        self.api_port = self.sync_port = 0
        self.id = ""
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def address(self) -> str:
        return f"tcp://127.0.0.1:{self.sync_port}"

    def _env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("ST") and "proxy" not in k.lower()}
        return env | {"HOME": str(self.home), "STNORESTART": "1", "STNOUPGRADE": "1", "STHASHING": "standard"}

    def generate(self) -> None:
        assert BINARY is not None
        self.home.mkdir(parents=True)
        run = {"capture_output": True, "text": True, "env": self._env(), "timeout": 60, "check": True}
        subprocess.run([BINARY, "generate", f"--home={self.home}", "--no-default-folder"], **run)  # type: ignore[call-overload]
        out = subprocess.run([BINARY, "serve", f"--home={self.home}", "--device-id"], **run).stdout  # type: ignore[call-overload]
        self.id = out.strip().splitlines()[-1]
        assert re.fullmatch(r"[A-Z2-7]{7}(-[A-Z2-7]{7}){7}", self.id), out

    def configure(self, peer: Device, ignore: str) -> None:
        """config.xml before the first start: loopback only, our API key, the peer (paused), the folder."""
        path = self.home / "config.xml"
        tree = ET.parse(path)
        root = tree.getroot()
        options = root.find("options")
        assert options is not None
        for tag, value in _OFF.items():
            (options.find(tag) if options.find(tag) is not None else ET.SubElement(options, tag)).text = value  # type: ignore[union-attr]
        for tag in ("listenAddress", "globalAnnounceServer", "stunServer"):
            for element in options.findall(tag):
                options.remove(element)
            ET.SubElement(options, tag).text = self.address if tag == "listenAddress" else ""
        gui = root.find("gui")
        assert gui is not None
        gui.set("enabled", "true")
        gui.set("tls", "false")
        gui.find("address").text = f"127.0.0.1:{self.api_port}"  # type: ignore[union-attr]
        (
            gui.find("apikey") if gui.find("apikey") is not None else ET.SubElement(gui, "apikey")
        ).text = self.key  # type: ignore[union-attr]
        defaults = root.find("defaults")
        assert defaults is not None
        for device in root.findall("device"):
            if device.get("id") != self.id:
                root.remove(device)
        other = copy.deepcopy(defaults.find("device"))
        assert other is not None
        other.set("id", peer.id)
        other.set("name", peer.name)
        for element in other.findall("address"):
            other.remove(element)
        other.insert(0, ET.Element("address"))
        other[0].text = peer.address
        other.find("paused").text = "true"  # type: ignore[union-attr]
        root.append(other)
        for folder in root.findall("folder"):
            root.remove(folder)
        shared = copy.deepcopy(defaults.find("folder"))
        assert shared is not None
        for key, value in (("id", "peerloop"), ("label", "peerloop"), ("path", str(self.folder)),
                           ("type", "sendreceive"), ("rescanIntervalS", "60"), ("fsWatcherEnabled", "true"),
                           ("fsWatcherDelayS", "1")):  # fmt: skip
            shared.set(key, value)
        for element in shared.findall("device"):
            shared.remove(element)
        for n, device_id in enumerate((self.id, peer.id)):
            shared.insert(n, ET.Element("device", {"id": device_id, "introducedBy": ""}))
        shared.find("minDiskFree").text = "0"  # type: ignore[union-attr]
        root.insert(0, shared)
        tree.write(path, encoding="unicode")
        self.folder.mkdir(parents=True, exist_ok=True)
        (self.folder / ".stfolder").mkdir(exist_ok=True)
        (self.folder / ".stignore").write_text(ignore, encoding="utf-8")

    def start(self) -> None:
        assert BINARY is not None
        log = (self.home / "syncthing.log").open("ab")
        self.process = subprocess.Popen(
            [BINARY, "serve", f"--home={self.home}", "--no-browser", "--no-restart", "--no-upgrade",
             "--no-default-folder", "--logfile=-"],
            stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, env=self._env(),
            start_new_session=True, preexec_fn=_die_with_parent,
        )  # fmt: skip
        log.close()

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        with contextlib.suppress(OSError, urllib.error.URLError, ValueError):
            self.api("POST", "/rest/system/shutdown", timeout=3)
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(5)

    def log(self) -> str:
        return (self.home / "syncthing.log").read_text(errors="replace")[-4000:]

    def api(self, method: str, path: str, body: Any = None, timeout: float = 60, **params: Any) -> Any:
        query = f"?{urllib.parse.urlencode(params, doseq=True)}" if params else ""
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(f"http://127.0.0.1:{self.api_port}{path}{query}", data=data,
                                         method=method, headers={"X-API-Key": self.key})  # fmt: skip
        with _OPENER.open(request, timeout=timeout) as answer:
            raw = answer.read()
        return json.loads(raw) if raw.strip() else None

    def up(self) -> bool:
        assert self.process is not None
        if self.process.poll() is not None:
            raise RuntimeError(f"syncthing {self.name} exited:\n{self.log()}")
        with contextlib.suppress(OSError, urllib.error.URLError, ValueError):
            listening = self.api("GET", "/rest/system/status")["connectionServiceStatus"].get(
                self.address, {}
            )
            return bool(listening.get("lanAddresses"))
        return False

    def connected(self, peer: Device) -> bool:
        return bool(
            self.api("GET", "/rest/system/connections")["connections"].get(peer.id, {}).get("connected")
        )

    def scan(self) -> None:
        self.api("POST", "/rest/db/scan", folder="peerloop")

    def state(self, peer: Device) -> tuple[Any, ...]:
        status = self.api("GET", "/rest/db/status", folder="peerloop")
        mine = self.api("GET", "/rest/db/completion", folder="peerloop")
        theirs = self.api("GET", "/rest/db/completion", folder="peerloop", device=peer.id)
        settled = (status["state"] == "idle" and status["needTotalItems"] == 0 and mine["completion"] == 100
                   and theirs["completion"] == 100 and self.connected(peer))  # fmt: skip
        counts = (status["globalFiles"], status["globalDeleted"], status["globalBytes"])
        return settled, counts, mine["sequence"], theirs["sequence"]


class Pair:
    """A laptop and a desktop syncing one folder over loopback."""

    def __init__(self, root: Path, ignore: str) -> None:
        self.laptop, self.desktop = Device("laptop", root), Device("desktop", root)
        self.ignore, self.redials = ignore, 0

    def start(self) -> None:
        for device in (self.laptop, self.desktop):
            device.generate()
        ports = _free_ports(4)
        self.laptop.api_port, self.laptop.sync_port, self.desktop.api_port, self.desktop.sync_port = ports
        self.laptop.configure(self.desktop, self.ignore)
        self.desktop.configure(self.laptop, self.ignore)
        for device in (self.laptop, self.desktop):
            device.start()
        for device in (self.laptop, self.desktop):
            wait_for(device.up, 60, f"syncthing {device.name} to listen")
        options = self.laptop.api("GET", "/rest/config/options")
        off = ("globalAnnounceEnabled", "localAnnounceEnabled", "relaysEnabled", "natEnabled")
        assert not any(options[key] for key in off), options
        assert options["listenAddresses"] == [self.laptop.address], options
        self.reconnect(wait=False)

    def stop(self) -> None:
        for device in (self.laptop, self.desktop):
            device.stop()

    def disconnect(self) -> None:
        """Both devices offline: each pauses the other."""
        self.laptop.api("PATCH", f"/rest/config/devices/{self.desktop.id}", {"paused": True})
        self.desktop.api("PATCH", f"/rest/config/devices/{self.laptop.id}", {"paused": True})
        wait_for(lambda: not self.laptop.connected(self.desktop), 30, "the devices to part")

    def reconnect(self, wait: bool = True) -> None:
        self.desktop.api("PATCH", f"/rest/config/devices/{self.laptop.id}", {"paused": False})
        time.sleep(0.2)
        self.redials += 1
        address = f"{self.desktop.address}?redial={self.redials}"
        self.laptop.api(
            "PATCH", f"/rest/config/devices/{self.desktop.id}", {"paused": False, "addresses": [address]}
        )
        wait_for(lambda: self.laptop.connected(self.desktop) and self.desktop.connected(self.laptop), 60,
                 "the devices to connect")  # fmt: skip
        if wait:
            self.wait_in_sync()

    def wait_in_sync(self, timeout: float = 60) -> None:
        for device in (self.laptop, self.desktop):
            device.scan()
        deadline, before = time.monotonic() + timeout, None
        while True:
            now = (self.laptop.state(self.desktop), self.desktop.state(self.laptop))
            (ours, our_counts, our_seq, seen_by_us), (theirs, their_counts, their_seq, seen_by_them) = now
            agreed = (
                ours
                and theirs
                and our_counts == their_counts
                and seen_by_us == their_seq
                and seen_by_them == our_seq
            )
            if agreed and now == before:
                return
            before = now if agreed else None
            if time.monotonic() > deadline:
                raise TimeoutError(
                    f"not in sync after {timeout} s: {now}\n{self.laptop.log()}\n{self.desktop.log()}"
                )
            time.sleep(0.2)


@contextlib.contextmanager
def syncthing_pair(root: Path, ignore: str) -> Iterator[Pair]:
    pair = Pair(root, ignore)
    try:
        pair.start()
        yield pair
    finally:
        pair.stop()


def synced_files(folder: Path) -> dict[str, bytes]:
    """What Syncthing syncs of a folder: every file but its own and those `.stignore` leaves alone here."""
    ignored = re.compile(r"^(\.lock-|\.stignore$|\.stfolder|\.syncthing\.|\.status-line$|\.missed-week$)")
    return {str(path.relative_to(folder)): path.read_bytes() for path in sorted(folder.rglob("*"))
            if path.is_file() and not ignored.match(path.name) and ".stfolder" not in path.parts}  # fmt: skip
