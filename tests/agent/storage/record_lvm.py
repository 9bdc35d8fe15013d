"""Records real LVM command outputs into lvm_recorded.json for the replaying fake in test_lvm_storage.py.

Run as root: `python tests/agent/storage/record_lvm.py`. It builds a 1 GiB loop-backed PV and VG
`sbtrec`, records each command's argv, exit code, stdout and stderr, and removes everything again. On a
host without device-mapper (the development machines) PV/VG reports work and LV creation fails, and
that is what gets recorded; on a host with device-mapper the same script records successful creates.
"""

from __future__ import annotations

import json
import os
import subprocess
import tempfile
from pathlib import Path

REPORT = ["--reportformat", "json", "--units", "b", "--nosuffix"]
LV_FIELDS = "lv_name,vg_name,lv_path,lv_size,lv_tags,pool_lv,origin,lv_attr"
VG_FIELDS = "vg_name,vg_size,vg_free,vg_extent_size"
COMMANDS = {
    "vgs_ok": ["vgs", *REPORT, "-o", VG_FIELDS, "sbtrec"],
    "vgs_missing": ["vgs", *REPORT, "-o", VG_FIELDS, "sbtnovg"],
    "lvs_empty": ["lvs", *REPORT, "-o", LV_FIELDS, "sbtrec"],
    "lvcreate_thick": [
        "lvcreate",
        "--yes",
        "--wipesignatures",
        "y",
        "-L",
        "104857600b",
        "-n",
        "vm-rec",
        "--addtag",
        "switchboard",
        "sbtrec",
    ],
    "lvcreate_thin": [
        "lvcreate",
        "--yes",
        "--wipesignatures",
        "y",
        "-V",
        "104857600b",
        "--thinpool",
        "sbtrec/pool",
        "-n",
        "base-rec",
        "--addtag",
        "switchboard",
    ],
}


def main() -> None:
    env = {**os.environ, "LC_ALL": "C", "LVM_SUPPRESS_FD_WARNINGS": "1"}
    had_control = Path("/dev/mapper/control").exists()
    recorded = {}
    with tempfile.TemporaryDirectory() as work:
        img = Path(work) / "pv.img"
        img.write_bytes(b"")
        os.truncate(img, 1 << 30)
        dev = subprocess.run(
            ["losetup", "-f", "--show", str(img)], capture_output=True, text=True, check=True
        ).stdout.strip()
        try:
            subprocess.run(["pvcreate", "-q", dev], check=True, env=env)
            subprocess.run(["vgcreate", "-q", "sbtrec", dev], check=True, env=env)
            for name, argv in COMMANDS.items():
                p = subprocess.run(argv, capture_output=True, text=True, env=env)
                recorded[name] = {
                    "argv": argv,
                    "rc": p.returncode,
                    "stdout": p.stdout,
                    "stderr": p.stderr.replace(dev, "/dev/loopN"),
                }
        finally:
            subprocess.run(["vgremove", "-y", "-q", "sbtrec"], env=env)
            subprocess.run(["pvremove", "-y", "-q", dev], env=env)
            subprocess.run(["losetup", "-d", dev])
            if not had_control:
                Path("/dev/mapper/control").unlink(missing_ok=True)
    out = Path(__file__).with_name("lvm_recorded.json")
    out.write_text(json.dumps(recorded, indent=1) + "\n")
    print(f"recorded {len(recorded)} commands into {out}")


if __name__ == "__main__":
    main()
