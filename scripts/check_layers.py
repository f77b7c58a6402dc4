#!/usr/bin/env python3
"""Fails when a folder includes one it may not (docs/design.md, "The folders"), when a
source file passes 600 lines, or when the installed public headers (library/CMakeLists.txt,
graphrun_public_headers) include a header that is not installed, or Highway or oneDNN. Run from anywhere: python3 scripts/check_layers.py [ROOT]

The layers, lowest first: core < plugins < ops < backends < io < train < mpi, onnx < tools. A
folder includes only its own files and those of the layers it depends on; a backend includes
no other backend; io/detail/ is private to io; a plugin sees only the ABI header.
"""
import pathlib
import re
import subprocess
import sys

MAX_LINES = 600

# What each folder may include, by the first path component of a quoted include. "abi" is
# the plugin ABI header (graphrun/plugin.h), "api" the umbrella and version headers of
# include/graphrun/. A backend folder's own name is added to its set below.
ALLOWED = {
    "core": {"core", "abi"},
    "plugins": {"abi", "activations", "optimizers"},
    "ops": {"core", "ops", "abi"},
    "backends": {"core", "abi", "ops"},             # backends/<one>/: itself, no other backend
    "backends/top": {"core", "abi", "ops", "backends"},  # registry.*, op_kernels.h: every backend
    "io": {"core", "io"},
    "train": {"core", "ops", "backends", "io", "train", "abi"},
    "mpi": {"core", "train", "mpi"},
    "onnx": {"core", "ops", "backends", "io", "abi", "onnx"},
    "library": {"api"},
    "include": {"api", "core", "ops", "backends", "io", "train", "abi"},
    "tools": {"core", "ops", "backends", "io", "train", "mpi", "onnx", "tools", "abi", "api"},
}
# Headers at the top of backends/ that a backend folder may include (registry.h may not be:
# it includes every backend).
BACKEND_SHARED = {"backends/op_kernels.h"}
PROJECT = {"core", "plugins", "ops", "backends", "io", "train", "mpi", "onnx", "tools", "abi", "api", "activations",
           "optimizers"}
# Trees that may include anything of the project (they test or time it).
UNCHECKED = ("tests/", "benchmarks/", "fuzz/", "examples/", "build/", "scripts/", "cmake/")
SOURCE = re.compile(r".*\.(cc|h|inc|c|cpp|hpp)$")
INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"')


def component(path):
    """The include's first component, with the two public header folders named."""
    if path in ("graphrun/plugin.h", "plugins/include/graphrun/plugin.h"):
        return "abi"
    if path.startswith("graphrun/"):
        return "api"
    return path.split("/", 1)[0] if "/" in path else None


def rules_for(rel):
    parts = rel.split("/")
    top = parts[0]
    if top == "backends":
        if len(parts) == 2:
            return "backends/top", ALLOWED["backends/top"]
        return "backends/" + parts[1], ALLOWED["backends"] | {"backends/" + parts[1]}
    return top, ALLOWED.get(top)


def check_public_headers(root, errors):
    """The installed list must be closed under its own includes and need no backend library."""
    cmake = (root / "library" / "CMakeLists.txt").read_text()
    m = re.search(r"set\(graphrun_public_headers\s+([^)]*)\)", cmake)
    if not m:
        errors.append("library/CMakeLists.txt: no set(graphrun_public_headers ...)")
        return
    public = set(m.group(1).split())
    top = {"include/graphrun/graphrun.h", "include/graphrun/version.h", "plugins/include/graphrun/plugin.h"}
    for rel in sorted(public | top):
        for n, line in enumerate((root / rel).read_text().splitlines(), 1):
            if re.match(r'\s*#\s*include\s+[<"](hwy|dnnl|oneapi)/', line):
                errors.append(f"{rel}:{n}: an installed header includes {line.split()[-1]}")
            inc = INCLUDE.match(line)
            if not inc or component(inc.group(1)) in (None, "abi", "api"):
                continue
            if (root / inc.group(1)).exists() and inc.group(1) not in public:
                errors.append(f"{rel}:{n}: an installed header includes {inc.group(1)}, which is not installed "
                              "(add it to graphrun_public_headers in library/CMakeLists.txt)")


def main():
    root = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else pathlib.Path(__file__).resolve().parent.parent)
    try:  # the tracked files; outside a git checkout, every file under root
        files = subprocess.run(["git", "ls-files"], cwd=root, capture_output=True, text=True, check=True).stdout.split()
    except (OSError, subprocess.CalledProcessError):
        # (leaving out build trees and hidden folders: a configured build holds CMake's own sources)
        files = [str(p.relative_to(root)) for p in root.rglob("*")
                 if p.is_file() and not p.relative_to(root).parts[0].startswith(("build", "."))]
    errors = []
    for rel in files:
        if not SOURCE.match(rel) or not (root / rel).exists():
            continue
        lines = (root / rel).read_text(errors="replace").splitlines()
        if len(lines) > MAX_LINES:
            errors.append(f"{rel}: {len(lines)} lines, more than {MAX_LINES}: split it")
        if rel.startswith(UNCHECKED):
            continue
        layer, allowed = rules_for(rel)
        if allowed is None:
            errors.append(f"{rel}: folder '{layer}' has no layering rule in scripts/check_layers.py")
            continue
        for n, line in enumerate(lines, 1):
            m = INCLUDE.match(line)
            if not m:
                continue
            inc = m.group(1)
            comp = component(inc)
            if comp is None:
                continue  # a file beside it
            if comp == "backends" and layer.startswith("backends/") and layer != "backends/top":
                if inc in BACKEND_SHARED:
                    continue
                comp = "/".join(inc.split("/")[:2])  # which backend
            if inc.startswith("io/detail/") and layer != "io":
                errors.append(f"{rel}:{n}: includes {inc}: io/detail/ is private to io")
            elif (comp in PROJECT or comp.startswith("backends/")) and comp not in allowed:
                errors.append(f"{rel}:{n}: includes {inc}: '{layer}' may include only {', '.join(sorted(allowed))}")
    check_public_headers(root, errors)
    for e in errors:
        print(e)
    if errors:
        print(f"check_layers: {len(errors)} problem(s); the rule is in docs/design.md (The folders)")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
