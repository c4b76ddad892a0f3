#!/usr/bin/env bash
# Makes CPython 3.14 and 3.15 available without changing the system, and prints the
# folder holding `python3.14` and `python3.15`, to put on PATH:
#
#     PATH="$(bash .ci/newer-pythons.sh):$PATH" nox -s tests-3.14
#
# An interpreter already on PATH that has what the test sessions need is used as it
# is. Otherwise Debian unstable's build is fetched, with the libraries it links to,
# through a private apt configuration (its own sources list naming the machine's
# Debian mirror, its own lists and cache, the system's keyring for the signatures),
# unpacked into the cache folder below, and pointed at its unpacked loader and
# libraries with patchelf. Its ensurepip is given Debian's pip wheel, so that
# `python3.X -m venv` makes venvs with pip, as nox does.
#
# The cache is ${XDG_CACHE_HOME:-$HOME/.cache}/multi-await-pythons, or
# $MULTI_AWAIT_PYTHONS: a second run takes a moment; remove it to fetch newer builds.
# DEBIAN_MIRROR overrides the mirror read from /etc/apt/sources.list*. Any failure is
# reported, and ends the script with a non-zero status.
set -euo pipefail

versions=(3.14 3.15)
cache=${MULTI_AWAIT_PYTHONS:-${XDG_CACHE_HOME:-$HOME/.cache}/multi-await-pythons}
bin=$cache/bin
work=""

say() { echo "newer-pythons: $*" >&2; }
fail() {
    say "error: $*"
    exit 1
}
finish() {
    local status=$?
    [[ -z $work ]] || rm -rf "$work"
    ((status == 0)) || say "error: Python ${versions[*]} could not all be provided (status $status)"
}
trap finish EXIT

# What each interpreter must do for the test sessions, their venvs included.
readonly CHECK='import bz2, ctypes, _decimal, ensurepip, lzma, sqlite3, ssl, uuid, venv, zlib'

# The python$1 found on PATH outside this script's own folder, if it passes CHECK.
usable_on_path() {
    local version=$1 elsewhere found
    elsewhere=$(tr ':' '\n' <<<"$PATH" | grep -vxF "$bin" | paste -sd: -) || return 1
    found=$(PATH=$elsewhere command -v "python$version") || return 1
    "$found" -c "$CHECK" 2>/dev/null || return 1
    echo "$found"
}

# The URI of the first enabled source, in either of apt's formats, serving Debian's
# release of this machine (or stable, testing, unstable).
debian_mirror() {
    local codename files=()
    # shellcheck disable=SC1091 # the machine's own
    codename=$(. /etc/os-release && echo "${VERSION_CODENAME:-}")
    for file in /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources; do
        [[ -f $file ]] && files+=("$file")
    done
    ((${#files[@]})) || return 0
    awk -v suites=" $codename stable testing unstable sid " '
        function found() { return uri != "" && deb && serves && !disabled }
        # One-line form: deb [options] URI SUITE COMPONENT...
        $1 == "deb" {
            for (i = 2; i <= NF && $i ~ /^\[/; i++)
                while ($i !~ /\]$/) i++
            if (index(suites, " " $(i + 1) " ")) { print $i; exit }
        }
        # deb822 form: stanzas of "Field: value" lines, apart by blank lines.
        /^[A-Za-z-]+:/ {
            field = tolower($1)
            if (field == "uris:") uri = $2
            if (field == "types:") deb = / deb( |$)/
            if (field == "enabled:") disabled = tolower($2) == "no"
            if (field == "suites:") for (i = 2; i <= NF; i++) if (index(suites, " " $i " ")) serves = 1
        }
        /^[[:space:]]*$/ { if (found()) { print uri; exit }; uri = ""; deb = serves = disabled = 0 }
        END { if (found()) print uri }
    ' "${files[@]}" | head -n 1
}

# A private apt configuration in $1, reading Debian unstable from mirror $2.
setup_apt() {
    local state=$1 mirror=$2
    mkdir -p "$state/lists/partial" "$state/cache/archives/partial" "$state/parts"
    echo "deb $mirror unstable main" >"$state/sources.list"
    : >"$state/preferences"
    : >"$state/status"
    apt=(-o "Dir::Etc::sourcelist=$state/sources.list" -o "Dir::Etc::sourceparts=$state/parts"
        -o "Dir::Etc::preferences=$state/preferences" -o "Dir::Etc::preferencesparts=$state/parts"
        -o "Dir::State=$state" -o "Dir::State::Lists=$state/lists" -o "Dir::State::status=$state/status"
        -o "Dir::Cache=$state/cache" -o "APT::Sandbox::User=$(id -un)")
    apt-get "${apt[@]}" -qq --error-on=any update >&2 || fail "apt-get update of Debian unstable on $mirror failed"
}

# The packages of Python $1 and, recursively, of the libraries they depend on: the
# dependencies named lib* and zlib* (the others are data, such as tzdata).
packages_of() {
    local queue=("python$1-minimal" "libpython$1-minimal" "libpython$1-stdlib" "python$1-venv" python3-pip-whl)
    local seen=" ${queue[*]} "
    while ((${#queue[@]})); do
        local next=()
        for name in $(apt-cache "${apt[@]}" depends --no-recommends --no-suggests --no-conflicts \
            --no-breaks --no-replaces --no-enhances "${queue[@]}" |
            awk '$1 ~ /Depends:$/ && $2 ~ /^z?lib/ && $2 !~ /^libpython/ { print $2 }' | sort -u); do
            [[ $seen == *" $name "* ]] || next+=("$name")
            seen+="$name "
        done
        queue=("${next[@]}")
    done
    echo "$seen"
}

# Make Python $1, unpacked into $2, run there on its own loader and libraries.
relocate() {
    local version=$1 root=$2
    local python=$root/usr/bin/python$version interpreter loader libs
    interpreter=$(patchelf --print-interpreter "$python")
    loader=""
    for candidate in "$root$interpreter" "$root/usr$interpreter"; do # merged /usr or not
        [[ -e $candidate ]] && loader=$(readlink -f "$candidate") && break
    done
    [[ -n $loader ]] || fail "the unpacked packages have no $interpreter"
    libs=$(dirname "$loader")
    # An RPATH, unlike a RUNPATH, also serves the libraries that the stdlib's
    # extension modules load (libssl for _ssl...).
    patchelf --set-interpreter "$loader" --force-rpath --set-rpath "$libs" "$python"
    # Debian's ensurepip takes pip's wheel from the system's wheel folder, where the
    # system's own older pip may be: point it at the unpacked one.
    local ensurepip=$root/usr/lib/python$version/ensurepip/__init__.py
    sed -i "s|^_pkg_dir = sysconfig.get_config_var('WHEEL_PKG_DIR')\$|_pkg_dir = '$root/usr/share/python-wheels'|" "$ensurepip"
    grep -qF "_pkg_dir = '$root/" "$ensurepip" || fail "$ensurepip has changed: cannot give it pip's wheel"
}

# Fail unless Python $1, in $2, loads no library from outside and makes venvs with pip.
verify() {
    local version=$1 root=$2
    local python=$root/usr/bin/python$version venv=$work/venv-$version
    "$python" -c "$CHECK
import sys
mapped = {line.split()[-1] for line in open('/proc/self/maps') if '.so' in line}
outside = sorted(path for path in mapped if not path.startswith('$root/'))
sys.exit(f'libraries from outside $root: {outside}' if outside else None)
" || fail "Python $version does not run from $root alone"
    "$python" -m venv "$venv" || fail "Python $version cannot make a venv"
    "$venv/bin/python" -m pip --version >/dev/null || fail "the venvs of Python $version have no pip"
}

# Fetch Debian's Python $1 into the cache.
provision() {
    local version=$1 root=$cache/$1 debs=$work/debs-$1
    if ((${#apt[@]} == 0)); then
        local mirror=${DEBIAN_MIRROR:-$(debian_mirror)}
        [[ -n $mirror ]] || fail "no Debian mirror in /etc/apt/sources.list*: set DEBIAN_MIRROR"
        say "reading Debian unstable's packages from $mirror"
        setup_apt "$work/apt" "$mirror"
    fi
    say "fetching Python $version into $root"
    mkdir -p "$debs"
    local packages
    packages=$(packages_of "$version")
    # shellcheck disable=SC2086 # a list of names
    (cd "$debs" && apt-get "${apt[@]}" -qq download $packages >&2) ||
        fail "apt-get download of Python $version's packages failed"
    rm -rf "$root"
    for deb in "$debs"/*.deb; do dpkg-deb -x "$deb" "$root"; done
    relocate "$version" "$root"
    verify "$version" "$root"
    touch "$root/.complete"
}

need_tools() {
    { command -v apt-get && command -v dpkg-deb; } >/dev/null ||
        fail "Python ${versions[*]} are not all on PATH, and fetching them needs apt-get and dpkg-deb (Debian)"
    command -v patchelf >/dev/null && return
    say "installing patchelf"
    apt-get install -y -qq patchelf >&2 || { apt-get update -qq >&2 && apt-get install -y -qq patchelf >&2; } ||
        fail "patchelf is missing and could not be installed"
}

main() {
    mkdir -p "$bin"
    exec 9>"$cache/.lock"
    flock 9 # two runs at once would unpack over each other
    apt=()
    for version in "${versions[@]}"; do
        local target
        if target=$(usable_on_path "$version"); then
            say "Python $version: $target, from PATH"
        else
            target=$cache/$version/usr/bin/python$version
            if [[ ! -f $cache/$version/.complete ]] || ! "$target" -c "$CHECK" 2>/dev/null; then
                need_tools
                [[ -n $work ]] || work=$(mktemp -d "$cache/work.XXXXXX")
                provision "$version"
            fi
            say "Python $("$target" -c 'import sys; print(sys.version.split()[0])'): $target"
        fi
        ln -sfn "$target" "$bin/python$version"
    done
    echo "$bin"
}

main
