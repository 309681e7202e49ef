#!/usr/bin/env python3
"""Every nvbind command line the documentation shows, run against a fixture root.

    doc-commands.py list DOC...          the command lines found, one per line (FILE:LINE: text)
    doc-commands.py run [options] DOC... run each, print a report, exit 1 when one is refused
                                         as a usage error (or crashes)

A command line is a line of a fenced code block that starts with `nvbind`, `nvbind-runtime`
or `nvbind-hook` (also after `$ ` or `sudo `). In a block where some lines start with `$ `,
only those are commands: the others are output. A line with `[...]`, `a|b` or `WORD...` is a
synopsis: it is run in its shortest form (no optional part), its longest form (every optional
part) and once more for every further alternative of an `a|b` word. Placeholders (IMAGE, FILE,
DIR, LIST, ...) become values that fit the option they follow; `--root ROOT` (a fresh copy of
the fixture root for every command) is added to `nvbind` lines without one, and `--dry-run` to
the commands that would change the machine.
The caller runs this in a private mount namespace (tests/e2e/docs_commands.bats).
"""
import argparse
import os
import re
import shlex
import subprocess
import sys

# Lines that cannot be run, with the reason. Keep it short: a line that can be made runnable
# with a placeholder value belongs in value_for() instead. An entry matches a line that is it,
# or starts with it and a space; with --check-skip-list an entry that matches no line fails the
# run (the documentation changed: drop the entry).
SKIP = {
    "nvbind [GLOBAL OPTIONS] COMMAND [ARGS...]": "the general form: names no command",
    "nvbind-runtime [runc's options] COMMAND [ARGS...]": "the general form: runc's own options",
    "nvbind serve": "a daemon that runs until a signal (tests/e2e/serve.bats runs it)",
}

# The commands that change the machine when run for real and take --dry-run (their --help says
# so); --dry-run is added to them, and must be accepted. `cdi generate` and `config init` take
# none: they write inside the fixture root's copy, or on the namespace's tmpfs.
MUTATING = [("setup",), ("migrate", "docker"), ("run",)]
# Words the documentation uses for a value to fill in (and <...>).
PLACEHOLDERS = {
    "IMAGE", "CMD", "OPTIONS", "ARGS", "FILE", "DIR", "LIST", "PATH", "NAME", "K=V", "LEVEL",
    "FMT", "VENDOR/CLASS", "PATH::SONAME::ARCH", "TARGET::LINK", "COMMAND", "STAGE",
}
# Command words, to find where the command path ends.
COMMAND_WORDS = {
    "info", "cdi", "generate", "validate", "list", "run", "config", "init", "show", "doctor",
    "setup", "docker", "podman", "migrate", "command", "hook", "libraries", "create-symlinks",
    "update-ldcache",
}
GLOBAL_WITH_VALUE = {"--root", "--config", "--log-level", "--log-format", "--log-file"}
# A refusal as a usage error, whatever the exit status.
USAGE_PATTERNS = re.compile(
    r"unrecognized option|unknown command|unknown option|invalid option|unknown argument|"
    r"requires an argument|option '[^']*' doesn't allow|missing (an )?argument", re.I)
PROGRAMS = ("nvbind", "nvbind-runtime", "nvbind-hook")


def command_lines(path):
    """(line number, text) of every command line in the fenced blocks of one file."""
    out = []
    with open(path, encoding="utf-8") as f:
        lines = f.read().split("\n")
    i = 0
    while i < len(lines):
        m = re.match(r"^\s*(```|~~~)", lines[i])
        if not m:
            i += 1
            continue
        fence, start = m.group(1), i + 1
        j = start
        while j < len(lines) and not lines[j].lstrip().startswith(fence):
            j += 1
        block = lines[start:j]
        prompted = any(re.match(r"^\s*\$ ", l) for l in block)
        k = 0
        while k < len(block):
            raw = block[k]
            text = raw.strip()
            lineno = start + k + 1
            k += 1
            if prompted:
                if not text.startswith("$ "):
                    continue
                text = text[2:].strip()
            if text.startswith("sudo "):
                text = text[5:].strip()
            if not re.match(r"^(%s)(\s|$)" % "|".join(map(re.escape, PROGRAMS)), text):
                continue
            # continuations: a trailing backslash, or a synopsis going on in an indented [...]
            while k < len(block) and (text.endswith("\\") or re.match(r"^\s+\[", block[k])):
                text = text.rstrip("\\").rstrip() + " " + block[k].strip()
                k += 1
            out.append((lineno, text))
        i = j + 1
    return out


def strip_comment(text):
    """The line without a trailing `# comment` (outside quotes) and without a pipeline tail."""
    quote, prev = None, " "
    for n, c in enumerate(text):
        if quote:
            if c == quote:
                quote = None
        elif c in "'\"":
            quote = c
        elif c == "#" and prev.isspace():
            return text[:n].rstrip()
        elif c == "|" and prev.isspace() and text[n + 1:n + 2].isspace():
            return text[:n].rstrip()  # a pipeline: only the nvbind command is checked
        prev = c
    return text


def is_synopsis(text):
    return bool(re.search(r"(^|\s)\[|\]($|\s|\.\.\.)|\S\|\S|\w\.\.\.", text))


def parse_synopsis(text):
    """A synopsis as a tree: a list of words and ('opt', list) groups."""
    toks = []
    for w in text.split():
        while w.startswith("["):
            toks.append("[")
            w = w[1:]
        tail = []
        while True:
            if w.endswith("]..."):
                tail.insert(0, "]")
                w = w[:-4]
            elif w.endswith("]"):
                tail.insert(0, "]")
                w = w[:-1]
            else:
                break
        if w.endswith("...") and len(w) > 3:
            w = w[:-3]  # repeatable: one instance
        if w:
            toks.append(w)
        toks.extend(tail)

    def seq(pos):
        items = []
        while pos < len(toks):
            t = toks[pos]
            if t == "[":
                sub, pos = seq(pos + 1)
                items.append(("opt", sub))
            elif t == "]":
                return items, pos + 1
            else:
                items.append(t)
                pos += 1
        return items, pos

    return seq(0)[0]


def flatten(items, full):
    out = []
    for it in items:
        if isinstance(it, tuple):
            if full:
                out.extend(flatten(it[1], full))
        else:
            out.append(it)
    return out


def instances(text):
    """Word lists to run for one documented line."""
    if not is_synopsis(text):
        return [shlex.split(text)]
    tree = parse_synopsis(text)
    shortest, longest = flatten(tree, False), flatten(tree, True)
    runs = []
    pick = lambda words, alt: [w.split("|")[alt.get(n, 0)] if "|" in w else w
                               for n, w in enumerate(words)]
    runs.append(pick(shortest, {}))
    runs.append(pick(longest, {}))
    for n, w in enumerate(longest):
        if "|" in w:
            for a in range(1, len(w.split("|"))):
                runs.append(pick(longest, {n: a}))
    seen, unique = set(), []
    for r in runs:
        if tuple(r) not in seen:
            seen.add(tuple(r))
            unique.append(r)
    return unique


class Values:
    """Placeholder values that fit the option or position they are in."""

    def __init__(self, ctx):
        self.ctx = ctx

    def value_for(self, word, prev, path):
        c = self.ctx
        engine = path[1] if len(path) > 1 and path[0] in ("setup", "migrate") else None
        table = {
            ("--root", "DIR"): c.root,
            ("--output", "FILE"): "-",
            ("--output", "DIR"): c.work + "/out-dir",
            ("--toolkit-config", "FILE"): c.work + "/toolkit.toml",
            ("--runtime-path", "PATH"): c.runtime,
            ("--hook-path", "PATH"): c.nvbind,
            ("--spec-dir", "DIR"): c.work + "/specs",
            ("--kind", "VENDOR/CLASS"): "nvidia.com/gpu",
            ("--device-name-strategy", "LIST"): "index,uuid",
            ("--driver-capabilities", "LIST"): "compute,utility",
            ("--gpu", "LIST"): "0",
            ("--profile", "NAME"): "ai-ml",
            ("--env", "K=V"): "FOO=bar",
            ("--log-level", "LEVEL"): "warn",
            ("--log-format", "FMT"): "text",
            ("--log-file", "FILE"): c.work + "/nvbind.log",
            ("--lib", "PATH::SONAME::ARCH"): "/usr/lib/libcuda.so.1::libcuda.so.1::x86_64",
            ("--link", "TARGET::LINK"): "libcuda.so.1::/usr/lib/libcuda.so",
            ("--folder", "DIR"): "/usr/lib",
            # the hook is run by hand here, in the namespaces it works in
            ("--stage", "STAGE"): "createContainer",
        }
        if (prev, word) in table:
            return table[(prev, word)]
        if (prev, word) == ("--config", "FILE"):
            if engine == "docker" or (path[:1] == ["setup"] and engine is None):
                return c.work + "/daemon.json"
            if engine == "podman":
                return c.work + "/containers.conf"
            return c.work + "/nvbind.toml"
        positional = {
            "IMAGE": "debian:12", "CMD": "true", "OPTIONS": "--rm", "ARGS": "--gpus all debian:12",
            "FILE": c.work + ("/specs/spec.json" if path[:1] == ["cdi"] else "/nvbind.toml"),
            "DIR": c.root,
        }
        if word in positional:
            return positional[word]
        return None


def command_path(words):
    """(index after the global options, the command words) of an nvbind argv."""
    i = 1
    while i < len(words) and words[i].startswith("-"):
        i += 2 if words[i] in GLOBAL_WITH_VALUE else 1
    start, path = i, []
    while i < len(words) and words[i] in COMMAND_WORDS and len(path) < 2:
        if path and path[0] not in ("cdi", "config", "setup", "migrate", "hook"):
            break
        path.append(words[i])
        i += 1
    return start, path, i


def prepare(words, ctx):
    """The argv to run, or (None, reason)."""
    vals = Values(ctx)
    prog = words[0]
    _, path, end = command_path(words) if prog == "nvbind" else (0, [], 1)
    out = []
    for n, w in enumerate(words):
        prev = words[n - 1] if n else ""
        if n and (w in PLACEHOLDERS or re.search(r"<[^>]*>", w)):
            v = vals.value_for(w, prev, path)
            if v is None:
                return None, "placeholder %s has no value" % w
            out.extend(v.split(" ") if w == "ARGS" else [v])
        else:
            out.append(w)
    if prog == "nvbind":
        if "--root" not in out[:end]:
            out[1:1] = ["--root", ctx.root]
            end += 2
        mutating = any(tuple(path[:len(m)]) == m for m in MUTATING)
        if mutating and "--dry-run" not in out:
            out.insert(end, "--dry-run")
    exe = {"nvbind": ctx.nvbind, "nvbind-runtime": ctx.runtime, "nvbind-hook": ctx.hook}[prog]
    return [exe] + out[1:], None


class Context:
    def __init__(self, a):
        self.nvbind, self.runtime, self.hook = a.nvbind, a.runtime, a.hook
        self.pristine, self.work = a.root, a.work
        self.root = os.path.join(a.work, "root")

    def fresh_root(self):
        """A new copy of the fixture root for each documented line: one command's writes
        (cdi generate, config init) must not decide how the next one goes."""
        subprocess.run(["rm", "-rf", self.root], check=True)
        subprocess.run(["cp", "-a", self.pristine, self.root], check=True)


def collect(docs):
    found = []
    for d in docs:
        for lineno, text in command_lines(d):
            found.append((d, lineno, text))
    return found


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    sub.add_parser("list").add_argument("docs", nargs="+")
    r = sub.add_parser("run")
    for opt in ("--nvbind", "--runtime", "--hook", "--work"):
        r.add_argument(opt, required=True)
    r.add_argument("--root", required=True, help="the fixture root; each command gets a copy")
    r.add_argument("--check-skip-list", action="store_true",
                   help="fail when a SKIP entry matches no line (for the full documentation)")
    r.add_argument("docs", nargs="+")
    a = ap.parse_args()
    found = collect(a.docs)
    if a.cmd == "list":
        for d, lineno, text in found:
            print("%s:%d: %s" % (d, lineno, text))
        return 0
    ctx = Context(a)
    failures, skipped, ran = [], [], 0
    used = set()
    env = dict(os.environ, XDG_CONFIG_HOME=a.work + "/xdg")
    env.pop("NVBIND_CONFIG", None)
    env.pop("NVBIND_ROOT", None)
    for d, lineno, text in found:
        where = "%s:%d" % (d, lineno)
        skip = next((k for k in SKIP if text == k or text.startswith(k + " ")), None)
        if skip:
            used.add(skip)
            skipped.append("%s: skipped (%s): %s" % (where, SKIP[skip], text))
            continue
        line = strip_comment(text)
        try:
            runs = instances(line)
        except ValueError as e:
            failures.append("%s: cannot be read as a command line (%s): %s" % (where, e, text))
            continue
        for words in runs:
            ctx.fresh_root()
            argv, why = prepare(words, ctx)
            if argv is None:
                skipped.append("%s: skipped (%s): %s" % (where, why, text))
                continue
            ran += 1
            try:
                p = subprocess.run(argv, capture_output=True, text=True, env=env, cwd=a.work,
                                   stdin=subprocess.DEVNULL, timeout=60)
                rc, err = p.returncode, p.stderr
            except subprocess.TimeoutExpired:
                rc, err = 124, "timed out after 60 s"
            shown = shlex.join(argv)
            first = next((l for l in err.splitlines() if l.strip()), "")
            if rc == 2 or USAGE_PATTERNS.search(err):
                failures.append("%s: refused as a usage error (exit %d): %s\n    doc: %s\n    %s"
                                % (where, rc, shown, text, first))
            elif rc < 0 or rc >= 80:
                failures.append("%s: crashed or timed out (exit %d): %s\n    doc: %s\n    %s"
                                % (where, rc, shown, text, first))
            else:
                print("ok   %s: exit %d: %s" % (where, rc, shown))
    for s in skipped:
        print(s)
    stale = [t for t in SKIP if t not in used] if a.check_skip_list else []
    for t in stale:
        failures.append("skip list entry matches no documented line (remove it): %s" % t)
    for f in failures:
        print("FAIL " + f)
    print("%d command(s) run from %d documented line(s), %d skipped, %d failure(s)"
          % (ran, len(found), len(skipped), len(failures)))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
