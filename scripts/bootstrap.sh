#!/usr/bin/env bash
# Installs every Debian package tpufleet needs to build, test and run.
# Idempotent: packages already installed are left alone, and when nothing is
# missing the script changes nothing (not even the apt package lists).
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config systemd
  clang libclang-rt-dev clang-format
  libflatbuffers-dev flatbuffers-compiler
  googletest libgtest-dev libgmock-dev libbenchmark-dev
  libcli11-dev nlohmann-json3-dev libfmt-dev libstb-dev libjpeg62-turbo-dev
  libxnnpack-dev libpthreadpool-dev libcpuinfo-dev libfp16-dev
  libarmnn-dev libarmnntfliteparser-dev libarmnn-cpuref-backend22
  pybind11-dev python3-dev python3-venv python3-pip python3-build python3-setuptools
  python3-wheel python3-numpy python3-pil python3-pytest
  libcpp-httplib-dev curl python3-requests nginx
  libgrpc++-dev libprotobuf-dev protobuf-compiler protobuf-compiler-grpc grpc-proto
  python3-grpcio python3-protobuf
)

missing=()
for package in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$package")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "bootstrap: all ${#packages[@]} packages already installed"
  exit 0
fi

echo "bootstrap: installing ${missing[*]}"
sudo_cmd=()
if [ "$(id -u)" -ne 0 ]; then sudo_cmd=(sudo); fi
"${sudo_cmd[@]}" apt-get update -qq
DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
