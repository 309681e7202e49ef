#!/usr/bin/env python3
"""cdi-apply.py SPEC DEVICE CONFIG: apply a CDI spec's edits for one device to an OCI config.json.

The spec-wide containerEdits and those of the device named DEVICE (e.g. "all" or "0") go into
CONFIG (rewritten in place) the way a CDI-aware engine applies them (CDI 0.5-0.7): env,
deviceNodes (major/minor from the host node, plus a cgroup allow rule), mounts, hooks,
additionalGIDs. tools/gpu-check.sh uses it to start a container through the CDI spec alone,
with plain runc and no nvbind-runtime, on GPU hosts without podman. JSON specs only.
"""
import json
import os
import stat
import sys


def die(msg):
    print("cdi-apply: " + msg, file=sys.stderr)
    sys.exit(1)


def add_env(cfg, entries):
    env = cfg.setdefault("process", {}).setdefault("env", [])
    for kv in entries:
        name = kv.split("=", 1)[0]
        env[:] = [e for e in env if e.split("=", 1)[0] != name]
        env.append(kv)


def add_node(cfg, node):
    host = node.get("hostPath") or node["path"]
    try:
        st = os.stat(host)
    except OSError as e:
        die("device node %s: %s" % (host, e.strerror))
    kind = "c" if stat.S_ISCHR(st.st_mode) else "b" if stat.S_ISBLK(st.st_mode) else None
    if kind is None:
        die("device node %s is not a character or block device" % host)
    major = node.get("major", os.major(st.st_rdev))
    minor = node.get("minor", os.minor(st.st_rdev))
    linux = cfg.setdefault("linux", {})
    dev = {"path": node["path"], "type": node.get("type", kind), "major": major, "minor": minor,
           "fileMode": node.get("fileMode", stat.S_IMODE(st.st_mode))}
    for k in ("uid", "gid"):
        if k in node:
            dev[k] = node[k]
    devices = linux.setdefault("devices", [])
    devices[:] = [d for d in devices if d.get("path") != node["path"]]
    devices.append(dev)
    rules = linux.setdefault("resources", {}).setdefault("devices", [])
    rules.append({"allow": True, "type": dev["type"], "major": major, "minor": minor,
                  "access": node.get("permissions", "rwm")})


def add_mount(cfg, m):
    mounts = cfg.setdefault("mounts", [])
    mounts[:] = [x for x in mounts if x.get("destination") != m["containerPath"]]
    entry = {"destination": m["containerPath"], "source": m["hostPath"],
             "type": m.get("type", "bind"), "options": m.get("options", ["rbind", "ro"])}
    mounts.append(entry)


def add_hook(cfg, h):
    hook = {"path": h["path"]}
    for k in ("args", "env", "timeout"):
        if k in h:
            hook[k] = h[k]
    cfg.setdefault("hooks", {}).setdefault(h["hookName"], []).append(hook)


def apply(cfg, edits):
    add_env(cfg, edits.get("env", []))
    for n in edits.get("deviceNodes", []):
        add_node(cfg, n)
    for m in edits.get("mounts", []):
        add_mount(cfg, m)
    for h in edits.get("hooks", []):
        add_hook(cfg, h)
    gids = edits.get("additionalGIDs", [])
    if gids:
        user = cfg.setdefault("process", {}).setdefault("user", {})
        user["additionalGids"] = sorted(set(user.get("additionalGids", [])) | set(gids))


def main():
    if len(sys.argv) != 4:
        die("usage: cdi-apply.py SPEC DEVICE CONFIG")
    spec_path, device, config_path = sys.argv[1:]
    with open(spec_path) as f:
        spec = json.load(f)
    with open(config_path) as f:
        cfg = json.load(f)
    found = [d for d in spec.get("devices", []) if d.get("name") == device]
    if not found:
        names = ", ".join(d.get("name", "?") for d in spec.get("devices", []))
        die("%s: no device named %r (devices: %s)" % (spec_path, device, names))
    apply(cfg, spec.get("containerEdits", {}))
    apply(cfg, found[0].get("containerEdits", {}))
    tmp = config_path + ".cdi-apply"
    with open(tmp, "w") as f:
        json.dump(cfg, f, indent=1)
    os.replace(tmp, config_path)


if __name__ == "__main__":
    main()
