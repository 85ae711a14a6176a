"""tpufleet serve over gRPC end to end: the real daemon with --simulate and --grpc on free
loopback ports, real models, and a client whose stubs are generated at test time from the
project's proto/kserve/grpc_service.proto and Debian's grpc/health/v1/health.proto (protoc and
grpc_python_plugin, Debian's python3-grpcio and python3-protobuf).

    grpc_test.py --binary build/src/tpufleet --shared ../shared --proto proto
"""
import argparse
import importlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import unittest

import numpy as np
import requests

import serve_test
from serve_test import (Daemon, EGYPTIAN_CAT, cat_pixels, infer_binary, make_repository,
                        send_in_bursts)

ARGS = None
HEALTH_PROTO = "/usr/share/grpc-proto/grpc/health/v1/health.proto"
pb = pb_grpc = health_pb = health_grpc = None  # the generated modules
grpc = None


def generate_stubs(directory):
    """Python modules from the project's .proto and the health .proto, imported."""
    global pb, pb_grpc, health_pb, health_grpc, grpc
    import grpc as grpc_module
    grpc = grpc_module
    # The health proto goes under a package name of its own: "grpc" is the grpc library's.
    os.makedirs(os.path.join(directory, "protos", "tpufleet_health"))
    shutil.copy(HEALTH_PROTO, os.path.join(directory, "protos", "tpufleet_health", "health.proto"))
    plugin = shutil.which("grpc_python_plugin") or "/usr/bin/grpc_python_plugin"
    for root, name in [(ARGS.proto, "kserve/grpc_service.proto"),
                       (os.path.join(directory, "protos"), "tpufleet_health/health.proto")]:
        subprocess.run(["protoc", "-I", root, "--python_out", directory, "--grpc_python_out",
                        directory, "--plugin=protoc-gen-grpc_python=" + plugin,
                        os.path.join(root, name)], check=True)
    sys.path.insert(0, directory)
    pb = importlib.import_module("kserve.grpc_service_pb2")
    pb_grpc = importlib.import_module("kserve.grpc_service_pb2_grpc")
    health_pb = importlib.import_module("tpufleet_health.health_pb2")
    health_grpc = importlib.import_module("tpufleet_health.health_pb2_grpc")


def start(tmp, *extra, grpc_address="127.0.0.1:0"):
    make_repository(os.path.join(tmp, "models"))
    daemon = Daemon(os.path.join(tmp, "models"), "--grpc", grpc_address, *extra)
    daemon.grpc_port = int(daemon.events("listening")[0]["grpc_port"])
    daemon.channel = grpc.insecure_channel("127.0.0.1:%d" % daemon.grpc_port)
    daemon.stub = pb_grpc.GRPCInferenceServiceStub(daemon.channel)
    daemon.health = health_grpc.HealthStub(daemon.channel)
    return daemon


def raw_request(pixels, model="mobilenet", **parameters):
    request = pb.ModelInferRequest(model_name=model, id="cat")
    request.inputs.add(name="input", datatype="UINT8", shape=list(pixels.shape))
    request.raw_input_contents.append(pixels.tobytes())
    for key, value in parameters.items():
        request.parameters[key].int64_param = value
    return request


class GrpcTest(unittest.TestCase):
    """One daemon serving mobilenet and an SSD detector over REST and gRPC."""

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="grpc_test_")
        cls.daemon = start(cls.tmp)
        cls.stub, cls.url = cls.daemon.stub, cls.daemon.url

    @classmethod
    def tearDownClass(cls):
        cls.daemon.channel.close()
        code = cls.daemon.stop()
        shutil.rmtree(cls.tmp, ignore_errors=True)
        assert code == 0, "the daemon exited %s after SIGTERM" % code

    def assertCode(self, call, code, message):
        with self.assertRaises(grpc.RpcError) as caught:
            call()
        self.assertEqual(caught.exception.code(), code, caught.exception.details())
        self.assertIn(message, caught.exception.details())
        return caught.exception

    def test_health_and_metadata(self):
        self.assertTrue(self.stub.ServerLive(pb.ServerLiveRequest()).live)
        self.assertTrue(self.stub.ServerReady(pb.ServerReadyRequest()).ready)
        self.assertTrue(self.stub.ModelReady(pb.ModelReadyRequest(name="mobilenet")).ready)
        self.assertCode(lambda: self.stub.ModelReady(pb.ModelReadyRequest(name="nope")),
                        grpc.StatusCode.NOT_FOUND, "no model 'nope'")
        server = self.stub.ServerMetadata(pb.ServerMetadataRequest())
        self.assertEqual(server.name, "tpufleet")
        self.assertEqual(list(server.extensions), requests.get(self.url + "/v2").json()["extensions"])
        meta = self.stub.ModelMetadata(pb.ModelMetadataRequest(name="mobilenet"))
        rest = requests.get(self.url + "/v2/models/mobilenet", timeout=10).json()
        self.assertEqual(meta.name, "mobilenet")
        self.assertEqual(meta.platform, "tflite_edgetpu")
        self.assertEqual([(t.name, t.datatype, list(t.shape)) for t in meta.inputs],
                         [("input", "UINT8", [1, 224, 224, 3])])
        self.assertEqual([(t.name, t.datatype, list(t.shape)) for t in meta.outputs],
                         [(t["name"], t["datatype"], t["shape"]) for t in rest["outputs"]])
        self.assertEqual(dict(meta.properties), rest["properties"])
        self.assertEqual(meta.properties["input.input.zero_point"], "128")

    def test_health_service(self):
        check = lambda service: self.daemon.health.Check(
            health_pb.HealthCheckRequest(service=service)).status
        serving = health_pb.HealthCheckResponse.SERVING
        self.assertEqual(check(""), serving)
        self.assertEqual(check("inference.GRPCInferenceService"), serving)
        self.assertCode(lambda: check("nope.Service"), grpc.StatusCode.NOT_FOUND, "no service")
        watched = list(self.daemon.health.Watch(health_pb.HealthCheckRequest(service=""),
                                                timeout=10))
        self.assertEqual([w.status for w in watched], [serving])

    def test_raw_inference_is_byte_identical_to_rest(self):
        pixels = cat_pixels(224)
        reply = self.stub.ModelInfer(raw_request(pixels), timeout=60)
        self.assertEqual(reply.model_name, "mobilenet")
        self.assertEqual(reply.id, "cat")
        self.assertEqual(len(reply.raw_output_contents), 1)
        scores = np.frombuffer(reply.raw_output_contents[0], dtype=np.uint8)
        self.assertEqual(int(np.argmax(scores)), EGYPTIAN_CAT)
        rest = infer_binary(self.url, pixels)
        self.assertEqual(rest.status_code, 200, rest.text)
        length = int(rest.headers["Inference-Header-Content-Length"])
        self.assertEqual(reply.raw_output_contents[0], rest.content[length:])
        rest_outputs = json.loads(rest.content[:length])["outputs"]
        self.assertEqual([(o.name, o.datatype, list(o.shape)) for o in reply.outputs],
                         [(o["name"], o["datatype"], o["shape"]) for o in rest_outputs])
        self.assertEqual(list(reply.outputs[0].shape), [1, 1001])

    def test_typed_contents_answer_raw_and_the_same(self):
        pixels = cat_pixels(224)
        request = pb.ModelInferRequest(model_name="mobilenet")
        request.inputs.add(name="input", datatype="UINT8", shape=[1, 224, 224, 3],
                           contents=pb.InferTensorContents(uint_contents=pixels.flatten().tolist()))
        reply = self.stub.ModelInfer(request, timeout=60)
        self.assertFalse(reply.outputs[0].HasField("contents"))
        raw = self.stub.ModelInfer(raw_request(pixels), timeout=60)
        self.assertEqual(reply.raw_output_contents, raw.raw_output_contents)

    def test_detector_outputs_match_rest_and_follow_the_request(self):
        pixels = cat_pixels(300)
        name = self.stub.ModelMetadata(pb.ModelMetadataRequest(name="ssd")).inputs[0].name
        request = raw_request(pixels, model="ssd")
        request.inputs[0].name = name
        reply = self.stub.ModelInfer(request, timeout=60)
        self.assertEqual(len(reply.outputs), 4)
        self.assertEqual(len(reply.raw_output_contents), 4)
        header = json.dumps({
            "inputs": [{"name": name, "shape": [1, 300, 300, 3], "datatype": "UINT8",
                        "parameters": {"binary_data_size": pixels.size}}],
            "parameters": {"binary_data_output": True}}).encode()
        rest = requests.post(self.url + "/v2/models/ssd/infer", data=header + pixels.tobytes(),
                             headers={"Inference-Header-Content-Length": str(len(header))},
                             timeout=60)
        self.assertEqual(rest.status_code, 200, rest.text)
        length = int(rest.headers["Inference-Header-Content-Length"])
        self.assertEqual(b"".join(reply.raw_output_contents), rest.content[length:])
        # Two outputs asked for, in the order asked.
        names = [o.name for o in reply.outputs]
        request.outputs.add(name=names[2])
        request.outputs.add(name=names[0])
        picked = self.stub.ModelInfer(request, timeout=60)
        self.assertEqual([o.name for o in picked.outputs], [names[2], names[0]])
        self.assertEqual(list(picked.raw_output_contents),
                         [reply.raw_output_contents[2], reply.raw_output_contents[0]])

    def test_deadlines(self):
        exception = self.assertCode(
            lambda: self.stub.ModelInfer(raw_request(cat_pixels(224), timeout=1), timeout=60),
            grpc.StatusCode.DEADLINE_EXCEEDED, "deadline")
        self.assertNotEqual(exception.details(), "Deadline Exceeded")  # the daemon's, not grpc's
        short_call = lambda seconds: self.assertCode(
            lambda: self.stub.ModelInfer(raw_request(cat_pixels(224)), timeout=seconds),
            grpc.StatusCode.DEADLINE_EXCEEDED, "")
        short_call(0.0005)
        # The daemon saw the call's deadline: it answered DEADLINE_EXCEEDED (code 4) itself. On a
        # busy machine the client's library may give up before the call leaves: then a call
        # with a longer deadline is tried, every second (bounded).
        seen = 0
        for attempt in range(50):  # the answer to the client may come before the daemon's
            text = requests.get(self.url + "/metrics", timeout=10).text
            seen = sum(float(l.split()[-1]) for l in text.splitlines() if l.startswith(
                'tpufleet_server_requests_total{protocol="grpc",model="mobilenet",code="4"}'))
            if seen >= 2:
                break
            if attempt % 10 == 9:  # its own outcome may go either way; the count decides
                try:
                    self.stub.ModelInfer(raw_request(cat_pixels(224)),
                                         timeout=0.0005 * (attempt // 10 + 2))
                except grpc.RpcError:
                    pass
            threading.Event().wait(0.1)
        self.assertGreaterEqual(seen, 2)
        self.assertEqual(len(self.stub.ModelInfer(raw_request(cat_pixels(224)),
                                                  timeout=60).raw_output_contents), 1)

    def test_bad_requests_get_codes_with_messages(self):
        invalid = grpc.StatusCode.INVALID_ARGUMENT
        pixels = cat_pixels(224)

        def contents(datatype="UINT8", shape=(1, 224, 224, 3), **fields):
            request = pb.ModelInferRequest(model_name="mobilenet")
            request.inputs.add(name="input", datatype=datatype, shape=list(shape),
                               contents=pb.InferTensorContents(**fields))
            return request

        short = raw_request(pixels)
        short.raw_input_contents[0] = pixels.tobytes()[:-1]
        unknown_type = raw_request(pixels)
        unknown_type.inputs[0].datatype = "FLOAT"
        both = raw_request(pixels)
        both.inputs[0].contents.uint_contents.extend([1, 2])
        two_blobs = raw_request(pixels)
        two_blobs.raw_input_contents.append(b"x")
        wrong_shape = raw_request(cat_pixels(8))
        wrong_name = raw_request(pixels)
        wrong_name.inputs[0].name = "image"
        no_output = raw_request(pixels)
        no_output.outputs.add(name="logits")
        bad_timeout = raw_request(pixels)
        bad_timeout.parameters["timeout"].string_param = "soon"
        negative = raw_request(pixels, priority=-1)
        cases = [
            (pb.ModelInferRequest(model_name="nope"), grpc.StatusCode.NOT_FOUND, "no model 'nope'"),
            (pb.ModelInferRequest(model_name="mobilenet"), invalid, "needs inputs"),
            (short, invalid, "raw_input_contents[0] has 150527 bytes"),
            (unknown_type, invalid, "unknown datatype 'FLOAT'"),
            (both, invalid, "every input raw or every input as contents"),
            (two_blobs, invalid, "1 inputs but 2 raw_input_contents"),
            (wrong_shape, invalid, "the model takes UINT8 [1, 224, 224, 3]"),
            (wrong_name, invalid, "no input 'image'"),
            (no_output, invalid, "no output 'logits'"),
            (bad_timeout, invalid, "parameter timeout"),
            (negative, invalid, "parameter priority"),
            (contents(fp32_contents=[0.5] * pixels.size), invalid, "go in contents.uint_contents"),
            (contents(uint_contents=[1, 2, 3]), invalid, "has 3 elements, shape [1, 224, 224, 3]"),
            (contents(uint_contents=[300] * pixels.size), invalid, "outside UINT8's range 0 to 255"),
            (contents(shape=(1, -224, 224, 3)), invalid, "dimensions are non-negative"),
            (contents(datatype="FP16", shape=(1,)), invalid, "send them in raw_input_contents"),
            (contents(datatype="BYTES", shape=(1,), bytes_contents=[b"x"]),
             grpc.StatusCode.UNIMPLEMENTED, "BYTES tensors are not served"),
            (contents(shape=(1 << 21, 1 << 21)), invalid, "more than 2^40 elements"),
        ]
        for request, code, message in cases:
            self.assertCode(lambda: self.stub.ModelInfer(request, timeout=60), code, message)
        # Bytes that are no ModelInferRequest at all: the gRPC library refuses them.
        garbage = self.daemon.channel.unary_unary(
            "/inference.GRPCInferenceService/ModelInfer",
            request_serializer=lambda b: b, response_deserializer=lambda b: b)
        with self.assertRaises(grpc.RpcError) as caught:
            garbage(b"\x0a\xff\xff\xff\xff\x0f", timeout=10)
        self.assertNotEqual(caught.exception.code(), grpc.StatusCode.OK)
        self.assertTrue(self.stub.ServerLive(pb.ServerLiveRequest()).live)

    def test_repository_and_statistics(self):
        index = self.stub.RepositoryIndex(pb.RepositoryIndexRequest())
        self.assertEqual({m.name: m.state for m in index.models},
                         {"mobilenet": "READY", "ssd": "READY"})
        try:
            self.stub.RepositoryModelUnload(pb.RepositoryModelUnloadRequest(model_name="ssd"))
            self.assertCode(lambda: self.stub.ModelReady(pb.ModelReadyRequest(name="ssd")),
                            grpc.StatusCode.NOT_FOUND, "no model 'ssd'")
            ready = self.stub.RepositoryIndex(pb.RepositoryIndexRequest(ready=True))
            self.assertEqual([m.name for m in ready.models], ["mobilenet"])
            self.assertCode(lambda: self.stub.RepositoryModelUnload(
                pb.RepositoryModelUnloadRequest(model_name="ssd")), grpc.StatusCode.NOT_FOUND, "ssd")
        finally:
            self.stub.RepositoryModelLoad(pb.RepositoryModelLoadRequest(model_name="ssd"),
                                          timeout=120)
        self.assertTrue(self.stub.ModelReady(pb.ModelReadyRequest(name="ssd")).ready)
        config = pb.RepositoryModelLoadRequest(model_name="ssd")
        config.parameters["config"].string_param = "{}"
        self.assertCode(lambda: self.stub.RepositoryModelLoad(config),
                        grpc.StatusCode.UNIMPLEMENTED, "config.json")
        self.assertCode(lambda: self.stub.RepositoryModelLoad(
            pb.RepositoryModelLoadRequest(model_name="missing")), grpc.StatusCode.NOT_FOUND,
            "no model 'missing'")
        self.assertCode(lambda: self.stub.RepositoryModelLoad(
            pb.RepositoryModelLoadRequest(model_name="..")), grpc.StatusCode.INVALID_ARGUMENT,
            "not a model name")

        self.stub.ModelInfer(raw_request(cat_pixels(224)), timeout=60)
        stats = self.stub.ModelStatistics(pb.ModelStatisticsRequest(name="mobilenet"))
        self.assertEqual([s.name for s in stats.model_stats], ["mobilenet"])
        s = stats.model_stats[0]
        rest = requests.get(self.url + "/v2/models/mobilenet/stats", timeout=10).json()
        self.assertGreaterEqual(s.inference_stats.success.count, 1)
        self.assertGreater(s.inference_stats.compute_infer.ns, 0)
        self.assertLessEqual(s.inference_stats.success.count,
                             rest["model_stats"][0]["inference_stats"]["success"]["count"])
        self.assertGreater(s.last_inference, 0)
        every = self.stub.ModelStatistics(pb.ModelStatisticsRequest())
        self.assertEqual(sorted(m.name for m in every.model_stats), ["mobilenet", "ssd"])
        self.assertCode(lambda: self.stub.ModelStatistics(pb.ModelStatisticsRequest(name="x")),
                        grpc.StatusCode.NOT_FOUND, "no model 'x'")
        text = requests.get(self.url + "/metrics", timeout=10).text
        self.assertIn('tpufleet_server_requests_total{protocol="grpc",model="mobilenet",code="0"}',
                      text)


class GuardedGrpcTest(unittest.TestCase):
    """gRPC on a non-loopback bind with an API key, one request in flight at most, messages of
    1 MiB at most."""

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="grpc_guarded_")
        cls.key_file = os.path.join(cls.tmp, "key")
        with open(cls.key_file, "w") as f:
            f.write("s3cret\n")
        # Listens on every address; the test only ever connects to 127.0.0.1.
        cls.daemon = start(cls.tmp, "--api-key-file", cls.key_file, "--max-in-flight", "1",
                           "--max-body-bytes", "1048576", grpc_address="0.0.0.0:0")
        cls.stub = cls.daemon.stub
        cls.key = [("authorization", "Bearer s3cret")]

    @classmethod
    def tearDownClass(cls):
        cls.daemon.channel.close()
        cls.daemon.stop()
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def code(self, call):
        try:
            call()
            return grpc.StatusCode.OK, ""
        except grpc.RpcError as e:
            return e.code(), e.details()

    def test_api_key_is_required(self):
        live = lambda **kw: self.stub.ServerLive(pb.ServerLiveRequest(), timeout=10, **kw)
        code, details = self.code(live)
        self.assertEqual(code, grpc.StatusCode.UNAUTHENTICATED)
        self.assertIn("authorization: Bearer KEY", details)
        wrong = self.code(lambda: live(metadata=[("authorization", "Bearer nope")]))
        self.assertEqual(wrong[0], grpc.StatusCode.UNAUTHENTICATED)
        self.assertTrue(live(metadata=self.key).live)
        # grpc.health.v1 is open, as the REST health probes are: Kubernetes' gRPC probe and
        # load balancers cannot send the key.
        check = lambda **kw: self.daemon.health.Check(health_pb.HealthCheckRequest(), **kw)
        self.assertEqual(check().status, health_pb.HealthCheckResponse.SERVING)
        self.assertEqual(check(metadata=self.key).status, health_pb.HealthCheckResponse.SERVING)
        self.assertEqual(self.code(lambda: self.stub.ModelInfer(raw_request(cat_pixels(224))))[0],
                         grpc.StatusCode.UNAUTHENTICATED)

    def test_message_size_limit(self):
        request = raw_request(cat_pixels(224))
        request.raw_input_contents[0] = bytes(2 << 20)
        code, details = self.code(lambda: self.stub.ModelInfer(request, metadata=self.key,
                                                               timeout=60))
        self.assertEqual(code, grpc.StatusCode.RESOURCE_EXHAUSTED, details)
        self.assertTrue(self.stub.ServerLive(pb.ServerLiveRequest(), metadata=self.key).live)

    def test_model_control_is_refused_off_loopback(self):
        for call in [self.stub.RepositoryModelLoad, self.stub.RepositoryModelUnload]:
            request = (pb.RepositoryModelLoadRequest if call == self.stub.RepositoryModelLoad
                       else pb.RepositoryModelUnloadRequest)(model_name="ssd")
            code, details = self.code(lambda: call(request, metadata=self.key, timeout=10))
            self.assertEqual(code, grpc.StatusCode.PERMISSION_DENIED)
            self.assertIn("--allow-model-control", details)
            self.assertEqual(self.code(lambda: call(request, timeout=10))[0],
                             grpc.StatusCode.UNAUTHENTICATED)
        self.assertTrue(self.stub.ModelReady(pb.ModelReadyRequest(name="ssd"),
                                             metadata=self.key).ready)

    def test_a_full_daemon_answers_resource_exhausted(self):
        request = raw_request(cat_pixels(224))
        outcomes = []

        def send():
            outcomes.append(self.code(
                lambda: self.stub.ModelInfer(request, metadata=self.key, timeout=60)))

        send_in_bursts(send, lambda: any(c == grpc.StatusCode.RESOURCE_EXHAUSTED
                                         for c, _ in outcomes))
        codes = {c for c, _ in outcomes}
        self.assertIn(grpc.StatusCode.RESOURCE_EXHAUSTED, codes)
        self.assertIn(grpc.StatusCode.OK, codes)
        self.assertLessEqual(codes, {grpc.StatusCode.OK, grpc.StatusCode.RESOURCE_EXHAUSTED})
        self.assertIn("retry later", next(d for c, d in outcomes
                                          if c == grpc.StatusCode.RESOURCE_EXHAUSTED))


def stop_while_calling(daemon, call, clients, rounds):
    """SIGTERMs the daemon while `clients` threads repeat `call` (at most `rounds` times each, a
    thread ending when it is told UNAVAILABLE). Returns the exit code, every call's code, and
    the codes of the calls that began after the SIGTERM."""
    outcomes, after_sigterm = [], []
    stop = threading.Event()
    sigterm_sent = threading.Event()

    def client():
        for _ in range(rounds):
            if stop.is_set():
                return
            late = sigterm_sent.is_set()
            try:
                call()
                code = grpc.StatusCode.OK
            except grpc.RpcError as e:
                code = e.code()
            outcomes.append(code)
            if late:
                after_sigterm.append(code)
            if code == grpc.StatusCode.UNAVAILABLE:
                return

    threads = [threading.Thread(target=client) for _ in range(clients)]
    for t in threads:
        t.start()
    while not outcomes:
        threading.Event().wait(0.01)
    sigterm_sent.set()
    code = daemon.stop()
    stop.set()
    for t in threads:
        t.join()
    daemon.channel.close()
    return code, outcomes, after_sigterm


class GrpcLifecycleTest(unittest.TestCase):
    def test_sigterm_drains_grpc_calls_and_exits_0(self):
        tmp = tempfile.mkdtemp(prefix="grpc_drain_")
        try:
            daemon = start(tmp)
            request = raw_request(cat_pixels(224))
            code, outcomes, after_sigterm = stop_while_calling(
                daemon, lambda: daemon.stub.ModelInfer(request, timeout=60), clients=3, rounds=500)
            self.assertEqual(code, 0, "".join(daemon.lines))
            self.assertEqual(daemon.events("stopped")[0]["in_flight"], "0")
            self.assertIn(grpc.StatusCode.OK, outcomes)
            # Every call is answered, or refused UNAVAILABLE while draining. Only a call begun
            # after the SIGTERM may instead be CANCELLED: libgrpc's shutdown cancels a call it
            # has received but not handed to the daemon, which the daemon's pause before closing
            # the port makes rare but cannot rule out (a caller may call again at any moment).
            self.assertLessEqual(set(outcomes), {grpc.StatusCode.OK, grpc.StatusCode.UNAVAILABLE,
                                                 grpc.StatusCode.CANCELLED}, outcomes)
            self.assertEqual(outcomes.count(grpc.StatusCode.CANCELLED),
                             after_sigterm.count(grpc.StatusCode.CANCELLED), outcomes)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)

    def test_health_probes_during_a_short_drain_do_not_hold_the_port(self):
        # Probes keep being answered while the daemon drains; with --drain-seconds 1 the port
        # waits at most half a second for them to pause, so the drain ends in time and exits 0.
        tmp = tempfile.mkdtemp(prefix="grpc_probe_drain_")
        try:
            daemon = start(tmp, "--drain-seconds", "1")
            code, outcomes, _ = stop_while_calling(
                daemon, lambda: daemon.stub.ServerLive(pb.ServerLiveRequest(), timeout=5),
                clients=2, rounds=5000)
            self.assertEqual(code, 0, "".join(daemon.lines))
            self.assertEqual(daemon.events("drain timed out"), [])
            self.assertIn(grpc.StatusCode.OK, outcomes)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)

    def test_a_grpc_port_in_use_is_refused(self):
        tmp = tempfile.mkdtemp(prefix="grpc_port_")
        try:
            daemon = Daemon(tmp, "--grpc", "127.0.0.1:0")
            try:
                port = int(daemon.events("listening")[0]["grpc_port"])
                out = subprocess.run([ARGS.binary, "serve", "--models", tmp, "--simulate",
                                      "--http", "127.0.0.1:0", "--grpc", "127.0.0.1:%d" % port],
                                     capture_output=True, text=True, timeout=60)
                self.assertNotEqual(out.returncode, 0, out.stderr)
                self.assertIn("cannot listen for gRPC on 127.0.0.1:%d (in use" % port, out.stderr)
            finally:
                self.assertEqual(daemon.stop(), 0)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)

    def test_bad_grpc_addresses_are_refused_at_start(self):
        tmp = tempfile.mkdtemp(prefix="grpc_public_")
        cases = [("0.0.0.0:0", "--grpc 0.0.0.0: a non-loopback address needs --api-key-file"),
                 ("nowhere", "--grpc 'nowhere' is not HOST:PORT")]
        try:
            for address, message in cases:
                out = subprocess.run([ARGS.binary, "serve", "--models", tmp, "--simulate",
                                      "--http", "127.0.0.1:0", "--grpc", address],
                                     capture_output=True, text=True, timeout=60)
                self.assertEqual(out.returncode, 2, out.stderr)
                self.assertIn(message, out.stderr)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--proto", required=True, help="the project's proto/ folder")
    rest = serve_test.parse_arguments(parser)
    ARGS = serve_test.ARGS
    stubs = tempfile.mkdtemp(prefix="grpc_stubs_")
    try:
        generate_stubs(stubs)
        result = unittest.main(argv=[sys.argv[0]] + rest, verbosity=2, exit=False).result
    finally:
        shutil.rmtree(stubs, ignore_errors=True)
    sys.exit(0 if result.wasSuccessful() else 1)
