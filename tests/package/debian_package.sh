#!/usr/bin/env bash
# Builds the Debian package of a build tree with CPack and checks it as dpkg would see it: the
# files it installs, its conffiles and maintainer scripts, its dependencies, that the unpacked
# executable runs with the unpacked library, and that systemd accepts the unit.
#   tests/package/debian_package.sh BUILD_DIR WORK_DIR
set -euo pipefail
build=$1
work=$2
rm -rf "$work"
mkdir -p "$work"

fail() { echo "debian_package: $*" >&2; exit 1; }

cpack --config "$build/CPackConfig.cmake" -B "$work" >"$work/cpack.log" 2>&1 ||
  { cat "$work/cpack.log"; fail "cpack failed"; }
debs=("$work"/tpufleet_*.deb)
[ -f "${debs[0]}" ] || fail "cpack made no tpufleet_*.deb in $work"
deb=${debs[0]}

contents=$(dpkg-deb -c "$deb")
for path in ./usr/bin/tpufleet ./usr/bin/tpufleet-device-host ./usr/include/tpufleet/fleet.h \
  ./lib/systemd/system/tpufleet.service ./lib/udev/rules.d/60-tpufleet.rules \
  ./etc/default/tpufleet ./usr/share/doc/tpufleet/serving.md \
  ./usr/share/doc/tpufleet/examples/nginx/tpufleet.conf; do
  grep -q " $path\$" <<<"$contents" || fail "$deb does not install $path; it has:
$contents"
done

dpkg-deb -e "$deb" "$work/control"
grep -qx /etc/default/tpufleet "$work/control/conffiles" || fail "/etc/default/tpufleet is no conffile"
for script in postinst prerm postrm; do
  [ -x "$work/control/$script" ] || fail "no executable $script in the package"
  sh -n "$work/control/$script" || fail "$script is not valid sh"
done
depends=$(dpkg-deb -f "$deb" Depends)
for library in libc6 libfmt adduser; do
  grep -q "$library" <<<"$depends" || fail "Depends lacks $library: $depends"
done

dpkg-deb -x "$deb" "$work/root"
libdir=$(dirname "$(find "$work/root" -name 'libtpufleet.so*' -print -quit)")
version=$(LD_LIBRARY_PATH=$libdir "$work/root/usr/bin/tpufleet" --version) ||
  fail "the unpacked tpufleet does not run"
grep -q tpufleet <<<"$version" || fail "tpufleet --version printed: $version"

# systemd's own check of the unit, with ExecStart pointing at the unpacked executable.
sed "s|/usr/bin/tpufleet|$work/root/usr/bin/tpufleet|" \
  "$work/root/lib/systemd/system/tpufleet.service" >"$work/tpufleet.service"
if command -v systemd-analyze >/dev/null; then
  systemd-analyze verify "$work/tpufleet.service" >"$work/verify.log" 2>&1 ||
    { cat "$work/verify.log"; fail "systemd-analyze verify rejects the unit"; }
  if [ -s "$work/verify.log" ]; then cat "$work/verify.log"; fail "systemd-analyze verify warns"; fi
else
  echo "debian_package: systemd-analyze is not installed: the unit was not verified"
fi
echo "debian_package: $(basename "$deb") installs $(grep -c . <<<"$contents") entries"
