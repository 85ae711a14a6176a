"""Scale-out: three `tpufleet serve` daemons behind Debian's nginx with the shipped configuration
(deploy/nginx/), all on loopback. Each model stays on one host; a host killed with SIGKILL under
load costs no client an error and moves only its own models; restarted, it gets them back.
gRPC calls through nginx's HTTP/2 listener stay on one host per model (mm-vmodel-id), and
after the kill only the dead host's models move, and come back.

    scaleout_test.py --binary build/src/tpufleet --shared ../shared --nginx /usr/sbin/nginx \
        --proto proto
"""
import argparse
import concurrent.futures
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import unittest

import numpy as np
import requests

import grpc_test
import serve_test

ARGS = None
DEPLOY = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "deploy", "nginx")
MODELS = ["m%d" % i for i in range(12)]  # one real model under twelve names: twelve hash keys


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Nginx:
    """nginx in a prefix of its own, with deploy/nginx/tpufleet.conf as shipped but for its
    listen addresses, and upstreams.conf naming the given daemons' HTTP and gRPC ports. With
    `round_robin`, the REST upstream leaves out its hash: nginx's default, for comparison."""

    def __init__(self, prefix, daemons, round_robin=False):
        self.prefix = prefix
        os.makedirs(prefix, exist_ok=True)
        self.port, self.grpc_port = free_port(), free_port()
        with open(os.path.join(DEPLOY, "upstreams.conf")) as f:
            upstreams = f.read()
        if round_robin:
            hashing = "    hash $tpufleet_model consistent;\n"
            if hashing not in upstreams:
                raise RuntimeError("upstreams.conf no longer hashes REST by model: " + hashing)
            upstreams = upstreams.replace(hashing, "")
        hosts = sorted(set(l.split()[1].split(":")[0] for l in upstreams.splitlines()
                           if l.strip().startswith("server ")))
        for host, daemon in zip(hosts, daemons):
            upstreams = upstreams.replace(host + ":8000", "127.0.0.1:%d" % daemon.port)
            upstreams = upstreams.replace(host + ":8001", "127.0.0.1:%d" % daemon.grpc_port)
        with open(os.path.join(DEPLOY, "tpufleet.conf")) as f:
            site = f.read().replace("listen 127.0.0.1:8000;", "listen 127.0.0.1:%d;" % self.port)
            site = site.replace("listen 127.0.0.1:8001 http2;",
                                "listen 127.0.0.1:%d http2;" % self.grpc_port)
        for name, text in [("upstreams.conf", upstreams), ("tpufleet.conf", site)]:
            with open(os.path.join(prefix, name), "w") as f:
                f.write(text)
        temp = " ".join("%s_temp_path %s/%s;" % (kind, prefix, kind)
                        for kind in ["client_body", "proxy", "fastcgi", "uwsgi", "scgi"])
        with open(os.path.join(prefix, "nginx.conf"), "w") as f:
            f.write("worker_processes 1;\ndaemon off;\npid %s/nginx.pid;\n"
                    "error_log %s/error.log info;\nevents { worker_connections 512; }\n"
                    "http { access_log off; %s include %s/upstreams.conf; "
                    "include %s/tpufleet.conf; }\n" % (prefix, prefix, temp, prefix, prefix))
        check = subprocess.run([ARGS.nginx, "-t", "-p", prefix, "-c", prefix + "/nginx.conf"],
                               capture_output=True, text=True)
        if check.returncode != 0:
            raise RuntimeError("nginx -t rejects the configuration:\n" + check.stderr)
        self.process = subprocess.Popen([ARGS.nginx, "-p", prefix, "-c", prefix + "/nginx.conf"],
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.url = "http://127.0.0.1:%d" % self.port
        for _ in range(100):  # bounded: 10 s
            try:
                requests.get(self.url + "/v2/health/live", timeout=1)
                return
            except requests.ConnectionError:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError("nginx did not start listening on %s" % self.url)

    def stop(self):
        if self.process.poll() is None:
            self.process.terminate()
            self.process.wait(30)


def make_repository(directory):
    os.makedirs(directory)
    model = os.path.join(ARGS.shared, "models", "mobilenet_v1_0.25_128_quant.tflite")
    for name in MODELS:
        shutil.copy(model, os.path.join(directory, name + ".tflite"))


def start_daemon(repository, port=0, grpc_port=0):
    daemon = serve_test.Daemon(repository, "--virtual-time", "--grpc", "127.0.0.1:%d" % grpc_port,
                               http="127.0.0.1:%d" % port)
    daemon.grpc_port = int(daemon.events("listening")[0]["grpc_port"])
    return daemon


PIXELS = np.zeros((1, 128, 128, 3), dtype=np.uint8)


def infer(url, model):
    """One binary-tensor inference through nginx: (status, the daemon that answered)."""
    header = json.dumps({"inputs": [{"name": "input", "shape": list(PIXELS.shape),
                                     "datatype": "UINT8",
                                     "parameters": {"binary_data_size": PIXELS.size}}]}).encode()
    reply = requests.post(url + "/v2/models/%s/infer" % model, data=header + PIXELS.tobytes(),
                          headers={"Inference-Header-Content-Length": str(len(header))},
                          timeout=30)
    # nginx lists every upstream it tried; the last one answered.
    return reply.status_code, reply.headers.get("X-Tpufleet-Upstream", "").split(", ")[-1]


class ScaleOutTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="scaleout_test_")
        self.repository = os.path.join(self.tmp, "models")
        make_repository(self.repository)
        self.daemons = []
        self.nginx = None
        # Cleanups run even when setUp fails half way: nothing started is left running.
        self.addCleanup(self.stop_everything)
        for _ in range(3):
            self.daemons.append(start_daemon(self.repository))
        self.nginx = Nginx(self.tmp, self.daemons)

    def stop_everything(self):
        if self.nginx:
            self.nginx.stop()
        for daemon in self.daemons:
            daemon.stop()
        shutil.rmtree(self.tmp, ignore_errors=True)

    def hosts(self, rounds=3):
        """model -> the one daemon address that served all its requests."""
        seen = {}
        for model in MODELS:
            for _ in range(rounds):
                status, host = infer(self.nginx.url, model)
                self.assertEqual(status, 200, model)
                seen.setdefault(model, set()).add(host)
        for model, hosts in seen.items():
            self.assertEqual(len(hosts), 1, "%s was served by %s" % (model, hosts))
        return {model: hosts.pop() for model, hosts in seen.items()}

    def grpc_stub(self):
        channel = grpc_test.grpc.insecure_channel("127.0.0.1:%d" % self.nginx.grpc_port)
        self.addCleanup(channel.close)
        return channel, grpc_test.pb_grpc.GRPCInferenceServiceStub(channel)

    def grpc_hosts(self, stub, rounds=3):
        """model -> the one daemon gRPC address that served all its calls through nginx."""
        ports = {"127.0.0.1:%d" % d.grpc_port for d in self.daemons}
        seen = {}
        for model in MODELS:
            request = grpc_test.raw_request(PIXELS, model=model)
            for _ in range(rounds):
                reply, call = stub.ModelInfer.with_call(
                    request, metadata=[("mm-vmodel-id", model)], timeout=30)
                self.assertEqual(reply.model_name, model)
                upstream = dict(call.initial_metadata()).get("x-tpufleet-upstream", "")
                seen.setdefault(model, set()).add(upstream.split(", ")[-1])
        for model, hosts in seen.items():
            self.assertEqual(len(hosts), 1, "%s was served by %s" % (model, hosts))
            self.assertLessEqual(hosts, ports)
        return {model: hosts.pop() for model, hosts in seen.items()}

    def reloads(self):
        """Parameter reloads so far, summed over the daemons' devices (their /metrics)."""
        total = 0
        for daemon in self.daemons:
            text = requests.get(daemon.url + "/metrics", timeout=30).text
            total += sum(float(line.split()[-1]) for line in text.splitlines()
                         if line.startswith("tpufleet_device_reloads_total{"))
        return total

    def test_consistent_hashing_reloads_fewer_parameters_than_round_robin(self):
        # The same requests (models in a random order, seeded) through nginx hashing by model,
        # then through nginx round robin over the same daemons. Each daemon holds all twelve
        # models on its two simulated Edge TPUs (six to a device), so a device reloads whenever
        # it switches between models of its own; hashing sends each host only its own models
        # (about four, two to a device), round robin every model to every host.
        round_robin = Nginx(os.path.join(self.tmp, "round_robin"), self.daemons, round_robin=True)
        self.addCleanup(round_robin.stop)
        rng = random.Random(16)
        requests_sent = [rng.choice(MODELS) for _ in range(240)]
        figures = {}
        for name, url in [("consistent hashing", self.nginx.url),
                          ("round robin", round_robin.url)]:
            self.hosts(rounds=1)  # every model resident somewhere first: count switches only
            before = self.reloads()
            for model in requests_sent:
                self.assertEqual(infer(url, model)[0], 200, model)
            figures[name] = self.reloads() - before
        print("\nparameter reloads for %d requests (%d models, 3 daemons of 2 simulated Edge "
              "TPUs): %s" % (len(requests_sent), len(MODELS),
                             ", ".join("%s %d" % item for item in figures.items())),
              file=sys.stderr)
        self.assertLess(figures["consistent hashing"], figures["round robin"])

    def test_grpc_calls_are_hashed_by_mm_vmodel_id(self):
        grpc, pb = grpc_test.grpc, grpc_test.pb
        channel, stub = self.grpc_stub()
        self.grpc_hosts(stub)
        health = grpc_test.health_grpc.HealthStub(channel)
        self.assertEqual(health.Check(grpc_test.health_pb.HealthCheckRequest(), timeout=10).status,
                         grpc_test.health_pb.HealthCheckResponse.SERVING)
        with self.assertRaises(grpc.RpcError) as caught:
            stub.RepositoryModelUnload(pb.RepositoryModelUnloadRequest(model_name=MODELS[0]),
                                       timeout=10)
        self.assertEqual(caught.exception.code(), grpc.StatusCode.PERMISSION_DENIED)
        self.assertIn("on each host", caught.exception.details())

    def test_models_stay_put_and_only_a_dead_hosts_models_move(self):
        before = self.hosts()
        victim_address = before[MODELS[0]]
        victim = next(d for d in self.daemons if d.url.endswith(victim_address))
        moved = [m for m in MODELS if before[m] == victim_address]
        channel, stub = self.grpc_stub()
        grpc_before = self.grpc_hosts(stub)
        victim_grpc = "127.0.0.1:%d" % victim.grpc_port

        # Load from four client threads while the victim is killed; every answer must be 200.
        statuses = []
        with concurrent.futures.ThreadPoolExecutor(4) as pool:
            futures = [pool.submit(infer, self.nginx.url, MODELS[i % len(MODELS)])
                       for i in range(60)]
            for i, future in enumerate(futures):
                if i == 20:
                    victim.process.send_signal(signal.SIGKILL)
                statuses.append(future.result()[0])
        victim.stop()
        self.assertEqual(statuses, [200] * len(statuses))

        after = self.hosts()
        for model in MODELS:
            if model in moved:
                self.assertNotEqual(after[model], victim_address, model)
            else:
                self.assertEqual(after[model], before[model], "%s moved off a live host" % model)
        # gRPC through nginx: every call answered, only the dead host's models moved.
        grpc_after = self.grpc_hosts(stub)
        for model in MODELS:
            if grpc_before[model] == victim_grpc:
                self.assertNotEqual(grpc_after[model], victim_grpc, model)
            else:
                self.assertEqual(grpc_after[model], grpc_before[model], model)

        # Restarted on its port, the host gets its models back once nginx tries it again
        # (fail_timeout in upstreams.conf is 5 s; bounded wait of 30 s).
        self.daemons.remove(victim)
        self.daemons.append(start_daemon(self.repository, victim.port, victim.grpc_port))
        for _ in range(60):
            if infer(self.nginx.url, MODELS[0])[1] == victim_address:
                break
            time.sleep(0.5)
        self.assertEqual(self.hosts(), before)
        for _ in range(60):  # nginx's gRPC peers have failure states of their own
            if self.grpc_hosts(stub, rounds=1) == grpc_before:
                break
            time.sleep(0.5)
        self.assertEqual(self.grpc_hosts(stub), grpc_before)


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--binary", required=True)
    parser.add_argument("--shared", required=True)
    parser.add_argument("--nginx", required=True)
    parser.add_argument("--proto", required=True, help="the project's proto/ folder")
    ARGS, rest = parser.parse_known_args()
    serve_test.ARGS = grpc_test.ARGS = ARGS
    if not os.path.exists(os.path.join(ARGS.shared, "models", "mobilenet_v1_0.25_128_quant.tflite")):
        print("the real models are missing from %s/models" % ARGS.shared)
        sys.exit(1)
    if not shutil.which(ARGS.nginx):
        print("nginx (%s) is not installed: scripts/bootstrap.sh installs it" % ARGS.nginx)
        sys.exit(1)
    stubs = tempfile.mkdtemp(prefix="scaleout_stubs_")
    try:
        grpc_test.generate_stubs(stubs)
        result = unittest.main(argv=[sys.argv[0]] + rest, verbosity=2, exit=False).result
    finally:
        shutil.rmtree(stubs, ignore_errors=True)
    sys.exit(0 if result.wasSuccessful() else 1)
