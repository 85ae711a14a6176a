"""tpufleet serve end to end: the real daemon on 127.0.0.1 (a free port) with simulated Edge
TPUs and real models, driven by real clients (python3-requests and curl).

    serve_test.py --binary build/src/tpufleet --shared ../shared
"""
import argparse
import io
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import unittest
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import requests
from PIL import Image

ARGS = None
EGYPTIAN_CAT = 286  # imagenet_labels.txt, line 0 "background"


class Daemon:
    """`tpufleet serve` started on a free loopback port; its JSON log lines are kept."""

    def __init__(self, repository, *extra, http="127.0.0.1:0"):
        self.lines = []
        self.listening = threading.Event()
        self.process = subprocess.Popen(
            [ARGS.binary, "serve", "--models", repository, "--simulate", "--http",
             http, "--log-format", "json", *extra],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()
        if not self.listening.wait(120):
            self.stop()
            raise RuntimeError("the daemon did not start: " + "".join(self.lines))
        event = next(json.loads(l) for l in self.lines if '"listening"' in l)
        self.port = int(event["port"])
        self.url = "http://127.0.0.1:%s" % self.port

    def _read(self):
        for line in self.process.stderr:
            self.lines.append(line)
            if '"event":"listening"' in line:
                self.listening.set()
        self.listening.set()  # ended: whoever waits sees it did not start

    def events(self, name):
        return [json.loads(l) for l in self.lines if '"event":"%s"' % name in l]

    def stop(self):
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(60)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.reader.join(10)
        self.process.stderr.close()
        return self.process.returncode


def make_repository(directory):
    models = os.path.join(ARGS.shared, "models")
    labels = os.path.join(ARGS.shared, "labels")
    os.makedirs(os.path.join(directory, "mobilenet"))
    for f in ["mobilenet_v2_1.0_224_quant.tflite", "mobilenet_v2_1.0_224_quant_edgetpu.tflite"]:
        shutil.copy(os.path.join(models, f), os.path.join(directory, "mobilenet"))
    shutil.copy(os.path.join(labels, "imagenet_labels.txt"),
                os.path.join(directory, "mobilenet", "labels.txt"))
    os.makedirs(os.path.join(directory, "ssd"))
    shutil.copy(os.path.join(models, "ssd_mobilenet_v1_coco_quant_postprocess_2018_06_29.tflite"),
                os.path.join(directory, "ssd"))
    shutil.copy(os.path.join(labels, "coco_labels.txt"), os.path.join(directory, "ssd", "labels.txt"))


def image_path(name):
    return os.path.join(ARGS.shared, "images", name)


def cat_pixels(size):
    """cat.bmp resized (bilinear) to size x size, as uint8 [1, size, size, 3]."""
    image = Image.open(image_path("cat.bmp")).convert("RGB").resize((size, size), Image.BILINEAR)
    return np.asarray(image, dtype=np.uint8).reshape(1, size, size, 3)


def infer_json(pixels):
    return {"id": "cat", "inputs": [{"name": "input", "shape": list(pixels.shape),
                                     "datatype": "UINT8", "data": pixels.flatten().tolist()}]}


def infer_binary(url, pixels, **parameters):
    header = json.dumps({
        "inputs": [{"name": "input", "shape": list(pixels.shape), "datatype": "UINT8",
                    "parameters": {"binary_data_size": pixels.size}}],
        "parameters": dict({"binary_data_output": True}, **parameters)}).encode()
    return requests.post(url + "/v2/models/mobilenet/infer", data=header + pixels.tobytes(),
                         headers={"Inference-Header-Content-Length": str(len(header)),
                                  "Content-Type": "application/octet-stream"}, timeout=60)


def send_in_bursts(send, done):
    """Calls `send` from 8 threads at once, round after round until done() (20 rounds at most):
    enough to fill a daemon that holds one request."""
    for _ in range(20):
        threads = [threading.Thread(target=send) for _ in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        if done():
            return


class OwnDaemonTest(unittest.TestCase):
    """Tests of the daemon a subclass's setUpClass starts as cls.daemon in the folder cls.tmp:
    afterwards it is stopped with SIGTERM, which it must answer by exiting 0."""

    @classmethod
    def tearDownClass(cls):
        code = cls.daemon.stop()
        shutil.rmtree(cls.tmp, ignore_errors=True)
        assert code == 0, "the daemon exited %s after SIGTERM" % code


class ServeTest(OwnDaemonTest):
    """One daemon serving mobilenet (compiled, with its twin) and an SSD detector."""

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="serve_test_")
        make_repository(os.path.join(cls.tmp, "models"))
        cls.daemon = Daemon(os.path.join(cls.tmp, "models"))
        cls.url = cls.daemon.url

    def test_health_and_metadata(self):
        self.assertEqual(requests.get(self.url + "/v2/health/live", timeout=10).status_code, 200)
        self.assertEqual(requests.get(self.url + "/v2/health/ready", timeout=10).status_code, 200)
        self.assertEqual(requests.get(self.url + "/v2/models/mobilenet/ready").status_code, 200)
        server = requests.get(self.url + "/v2", timeout=10).json()
        self.assertEqual(server["name"], "tpufleet")
        self.assertIn("binary_tensor_data", server["extensions"])
        meta = requests.get(self.url + "/v2/models/mobilenet", timeout=10).json()
        self.assertEqual(meta["platform"], "tflite_edgetpu")
        self.assertEqual(meta["inputs"], [{"name": "input", "datatype": "UINT8",
                                           "shape": [1, 224, 224, 3]}])
        self.assertEqual(meta["outputs"][0]["shape"], [1, 1001])
        self.assertEqual(meta["properties"]["input.input.scale"], "0.0078125")
        self.assertEqual(meta["properties"]["input.input.zero_point"], "128")
        self.assertTrue(meta["properties"]["devices"].startswith("sim:"))

    def test_json_inference_classifies_the_cat(self):
        reply = requests.post(self.url + "/v2/models/mobilenet/infer",
                              json=infer_json(cat_pixels(224)), timeout=60)
        self.assertEqual(reply.status_code, 200, reply.text)
        body = reply.json()
        self.assertEqual(body["id"], "cat")
        self.assertEqual(body["model_name"], "mobilenet")
        output = body["outputs"][0]
        self.assertEqual(output["datatype"], "UINT8")
        self.assertEqual(output["shape"], [1, 1001])
        self.assertEqual(int(np.argmax(output["data"])), EGYPTIAN_CAT)

    def test_binary_inference_classifies_the_cat(self):
        reply = infer_binary(self.url, cat_pixels(224))
        self.assertEqual(reply.status_code, 200, reply.text)
        length = int(reply.headers["Inference-Header-Content-Length"])
        header = json.loads(reply.content[:length])
        self.assertEqual(header["outputs"][0]["parameters"]["binary_data_size"], 1001)
        scores = np.frombuffer(reply.content[length:], dtype=np.uint8)
        self.assertEqual(scores.size, 1001)
        self.assertEqual(int(np.argmax(scores)), EGYPTIAN_CAT)

    def test_curl_binary_inference(self):
        pixels = cat_pixels(224)
        header = json.dumps({"inputs": [{"name": "input", "shape": [1, 224, 224, 3],
                                         "datatype": "UINT8",
                                         "parameters": {"binary_data_size": pixels.size}}]})
        body = os.path.join(self.tmp, "body.bin")
        with open(body, "wb") as f:
            f.write(header.encode() + pixels.tobytes())
        command = ["curl", "-sS", "--max-time", "60", "-H",
                   "Inference-Header-Content-Length: %d" % len(header), "--data-binary",
                   "@" + body, self.url + "/v2/models/mobilenet/infer"]
        out = subprocess.run(command + ["-H", "Content-Type: application/octet-stream"],
                             capture_output=True, check=True)
        data = json.loads(out.stdout)["outputs"][0]["data"]
        self.assertEqual(int(np.argmax(data)), EGYPTIAN_CAT)
        # curl's default type, form-urlencoded, gets a message saying what to send instead.
        out = subprocess.run(command, capture_output=True, check=True)
        self.assertIn("application/octet-stream", json.loads(out.stdout)["error"])

    def test_deadline_passed_is_504(self):
        reply = infer_binary(self.url, cat_pixels(224), timeout=1)
        self.assertEqual(reply.status_code, 504, reply.text)
        self.assertIn("deadline", reply.json()["error"])

    def device_failures(self):
        text = requests.get(self.url + "/metrics", timeout=10).text
        return sum(float(line.split()[-1]) for line in text.splitlines()
                   if line.startswith("tpufleet_device_failures_total"))

    def test_clients_deadlines_take_no_device_down(self):
        before = self.device_failures()
        for _ in range(8):  # more than the fleet's default max_deadline_misses (3)
            # Long enough to reach the device, shorter than its 2-3 ms on mobilenet v2.
            self.assertEqual(infer_binary(self.url, cat_pixels(224), timeout=500).status_code, 504)
        self.assertEqual(self.device_failures(), before)
        self.assertEqual(infer_binary(self.url, cat_pixels(224)).status_code, 200)

    def detect(self, data, filename, **fields):
        return requests.post(self.url + "/v1/vision/detection", files={"image": (filename, data)},
                             data=fields, timeout=60)

    def test_deepstack_boxes_are_pixels_of_the_image_sent(self):
        with open(image_path("cat.bmp"), "rb") as f:
            original = f.read()
        with Image.open(image_path("cat.bmp")) as image:
            width, height = image.size
        reply = self.detect(original, "cat.bmp", min_confidence="0.5")
        self.assertEqual(reply.status_code, 200, reply.text)
        body = reply.json()
        self.assertTrue(body["success"])
        self.assertEqual(body["count"], len(body["predictions"]))
        cats = [p for p in body["predictions"] if p["label"] == "cat"]
        self.assertEqual(len(cats), 1, body)
        cat = cats[0]
        self.assertGreater(cat["confidence"], 0.5)
        for p in body["predictions"]:
            self.assertGreaterEqual(p["confidence"], 0.5)
        self.assertTrue(0 <= cat["x_min"] < cat["x_max"] <= width, cat)
        self.assertTrue(0 <= cat["y_min"] < cat["y_max"] <= height, cat)
        # The cat fills much of the picture: its box covers the centre.
        self.assertTrue(cat["x_min"] < width / 2 < cat["x_max"], cat)
        self.assertTrue(cat["y_min"] < height / 2 < cat["y_max"], cat)
        self.assertGreater(body["processMs"], 0)

        # The same picture at twice the size, as JPEG: the box is in the new image's pixels.
        big = io.BytesIO()
        Image.open(image_path("cat.bmp")).convert("RGB").resize(
            (2 * width, 2 * height), Image.BILINEAR).save(big, "JPEG", quality=95)
        reply = self.detect(big.getvalue(), "cat.jpg", min_confidence="0.5")
        self.assertEqual(reply.status_code, 200, reply.text)
        big_cat = [p for p in reply.json()["predictions"] if p["label"] == "cat"][0]
        for key in ["x_min", "y_min", "x_max", "y_max"]:
            self.assertAlmostEqual(big_cat[key], 2 * cat[key], delta=0.03 * 2 * max(width, height))

    def test_deepstack_with_curl_and_custom_model(self):
        out = subprocess.run(
            ["curl", "-sS", "--max-time", "60", "-F", "image=@" + image_path("cat.bmp"),
             "-F", "min_confidence=0.5", self.url + "/v1/vision/custom/ssd"],
            capture_output=True, check=True)
        body = json.loads(out.stdout)
        self.assertTrue(body["success"], body)
        self.assertIn("cat", [p["label"] for p in body["predictions"]])
        reply = requests.post(self.url + "/v1/vision/custom/mobilenet",
                              files={"image": ("cat.bmp", b"x")}, timeout=60)
        self.assertEqual(reply.status_code, 400)
        self.assertIn("not a detector", reply.json()["error"])

    def test_bad_input_gets_4xx_with_a_message(self):
        post = lambda path, **kw: requests.post(self.url + path, timeout=60, **kw)
        cases = [
            (post("/v2/models/mobilenet/infer", data=b"{not json"), 400, "not a JSON object"),
            (post("/v2/models/nope/infer", json=infer_json(cat_pixels(8))), 404, "no model 'nope'"),
            (post("/v2/models/mobilenet/infer", json=infer_json(cat_pixels(8))), 400,
             "the model takes UINT8 [1, 224, 224, 3]"),
            (post("/v2/models/mobilenet/infer", data=b'{"inputs": []}',
                  headers={"Inference-Header-Content-Length": "x1"}), 400,
             "Inference-Header-Content-Length"),
            (post("/v1/vision/detection", data={"min_confidence": "0.5"}), 400, "no image"),
            (self.detect(b"definitely not an image", "x.jpg"), 400, "cannot decode image"),
            (self.detect(b"x", "x.jpg", min_confidence="2"), 400, "number from 0 to 1"),
            (requests.get(self.url + "/v2/nothing/here", timeout=10), 404, "no endpoint"),
            (post("/v2/repository/models/%2e%2e/load"), 400, "not a model name"),
            (post("/v2/repository/models/.hidden/load"), 400, "not a model name"),
            (post("/v2/repository/models/missing/load"), 404, "no model 'missing'"),
        ]
        for reply, status, message in cases:
            self.assertEqual(reply.status_code, status, reply.text)
            self.assertIn(message, reply.json()["error"])
        self.assertEqual(requests.get(self.url + "/v2/health/live").status_code, 200)

    def test_repository_unload_and_load(self):
        index = requests.post(self.url + "/v2/repository/index", timeout=10).json()
        self.assertEqual({m["name"]: m["state"] for m in index},
                         {"mobilenet": "READY", "ssd": "READY"})
        try:
            reply = requests.post(self.url + "/v2/repository/models/ssd/unload", timeout=10)
            self.assertEqual(reply.status_code, 200, reply.text)
            self.assertEqual(requests.get(self.url + "/v2/models/ssd/ready").status_code, 404)
            ready = requests.post(self.url + "/v2/repository/index", json={"ready": True}).json()
            self.assertEqual([m["name"] for m in ready], ["mobilenet"])
            # Removed from the fleet: its fleet metrics are gone with it.
            self.assertEqual(self.fleet_model_series("ssd_mobilenet"), [])
        finally:
            reply = requests.post(self.url + "/v2/repository/models/ssd/load", timeout=120)
        self.assertEqual(reply.status_code, 200, reply.text)
        self.assertEqual(requests.get(self.url + "/v2/models/ssd/ready").status_code, 200)
        self.assertTrue(self.daemon.events("model unloaded"))
        self.assertNotEqual(self.fleet_model_series("ssd_mobilenet"), [])

    def fleet_model_series(self, file_part):
        text = requests.get(self.url + "/metrics", timeout=10).text
        return [l for l in text.splitlines()
                if l.startswith("tpufleet_model_requests_total{") and file_part in l]

    def test_unloading_under_load_answers_every_request(self):
        outcomes = []
        answered = threading.Event()

        def send():
            for _ in range(10):
                outcomes.append(infer_binary(self.url, cat_pixels(224)).status_code)
                answered.set()

        threads = [threading.Thread(target=send) for _ in range(4)]
        for t in threads:
            t.start()
        try:
            self.assertTrue(answered.wait(60))  # the clients are sending: unload among them
            reply = requests.post(self.url + "/v2/repository/models/mobilenet/unload", timeout=60)
            self.assertEqual(reply.status_code, 200, reply.text)
        finally:
            for t in threads:
                t.join()
            reply = requests.post(self.url + "/v2/repository/models/mobilenet/load", timeout=120)
        self.assertEqual(reply.status_code, 200, reply.text)
        # Admitted before the unload: answered 200; after it: 404 (unknown model). Never lost.
        self.assertEqual(len(outcomes), 40)
        self.assertIn(200, outcomes)
        self.assertLessEqual(set(outcomes), {200, 404}, outcomes)
        self.assertEqual(infer_binary(self.url, cat_pixels(224)).status_code, 200)

    def test_statistics_and_metrics(self):
        self.assertEqual(infer_binary(self.url, cat_pixels(224)).status_code, 200)
        stats = requests.get(self.url + "/v2/models/mobilenet/stats", timeout=10).json()
        s = stats["model_stats"][0]
        self.assertEqual(s["name"], "mobilenet")
        self.assertGreaterEqual(s["inference_stats"]["success"]["count"], 1)
        self.assertGreater(s["inference_stats"]["success"]["ns"], 0)
        self.assertGreater(s["inference_stats"]["compute_infer"]["ns"], 0)
        everything = requests.get(self.url + "/v2/models/stats", timeout=10).json()
        self.assertEqual(sorted(m["name"] for m in everything["model_stats"]), ["mobilenet", "ssd"])
        text = requests.get(self.url + "/metrics", timeout=10).text
        lines = [l for l in text.splitlines() if l.startswith(
            'tpufleet_server_request_duration_seconds_count{protocol="kserve",model="mobilenet",'
            'code="200"}')]
        self.assertEqual(len(lines), 1, text)
        self.assertGreaterEqual(float(lines[0].split()[-1]), 1)
        self.assertIn('le="+Inf"', text)
        self.assertIn("# TYPE tpufleet_server_request_duration_seconds histogram", text)
        self.assertIn("tpufleet_device_requests_total", text)


class GuardedDaemonTest(unittest.TestCase):
    """A daemon with an API key, one request in flight at most and small bodies."""

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="serve_guarded_")
        make_repository(os.path.join(cls.tmp, "models"))
        cls.key_file = os.path.join(cls.tmp, "key")
        with open(cls.key_file, "w") as f:
            f.write("s3cret\n")
        cls.daemon = Daemon(os.path.join(cls.tmp, "models"), "--api-key-file", cls.key_file,
                            "--max-in-flight", "1", "--max-body-bytes", "560000")
        cls.url = cls.daemon.url
        cls.auth = {"Authorization": "Bearer s3cret"}

    @classmethod
    def tearDownClass(cls):
        cls.daemon.stop()
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def test_api_key_is_required(self):
        reply = requests.get(self.url + "/v2/models/mobilenet", timeout=10)
        self.assertEqual(reply.status_code, 401)
        self.assertIn("API key", reply.json()["error"])
        # Health probes are open: orchestrators and load balancers cannot send the key.
        for probe in ["/v2/health/live", "/v2/health/ready"]:
            self.assertEqual(requests.get(self.url + probe, timeout=10).status_code, 200, probe)
        self.assertEqual(requests.get(self.url + "/v2/health/other", timeout=10).status_code, 401)
        wrong = requests.get(self.url + "/v2", headers={"Authorization": "Bearer nope"})
        self.assertEqual(wrong.status_code, 401)
        self.assertEqual(requests.get(self.url + "/v2", headers=self.auth).status_code, 200)
        with open(image_path("cat.bmp"), "rb") as f:
            image = f.read()
        no_key = requests.post(self.url + "/v1/vision/detection", files={"image": image})
        self.assertEqual(no_key.status_code, 401)
        form_key = requests.post(self.url + "/v1/vision/detection", files={"image": image},
                                 data={"api_key": "s3cret"}, timeout=60)
        self.assertEqual(form_key.status_code, 200, form_key.text)

    def test_body_limit(self):
        reply = requests.post(self.url + "/v2/models/mobilenet/infer", headers=self.auth,
                              json=infer_json(cat_pixels(224)), timeout=60)
        self.assertEqual(reply.status_code, 413)
        self.assertIn("--max-body-bytes", reply.json()["error"])

    def test_a_full_daemon_answers_429(self):
        pixels = cat_pixels(224)
        header = json.dumps({"inputs": [{"name": "input", "shape": [1, 224, 224, 3],
                                         "datatype": "UINT8",
                                         "parameters": {"binary_data_size": pixels.size}}]})
        body = header.encode() + pixels.tobytes()
        headers = dict(self.auth, **{"Inference-Header-Content-Length": str(len(header))})
        statuses = []

        def send():
            reply = requests.post(self.url + "/v2/models/mobilenet/infer", data=body,
                                  headers=headers, timeout=60)
            statuses.append((reply.status_code, reply.text))

        send_in_bursts(send, lambda: any(s == 429 for s, _ in statuses))
        codes = {s for s, _ in statuses}
        self.assertIn(429, codes)
        self.assertIn(200, codes)
        self.assertLessEqual(codes, {200, 429}, statuses)
        self.assertIn("retry later", next(t for s, t in statuses if s == 429))


class YoloDetectorTest(OwnDaemonTest):
    """A YOLOv8 export (the zoo's, int8) behind the DeepStack endpoint: its one raw output is
    suppressed on the server, and the objects are those `tpufleet run` finds in the same image."""

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="serve_yolo_")
        folder = os.path.join(cls.tmp, "models", "yolo")
        os.makedirs(folder)
        cls.model = os.path.join(folder, "yolov8n.tflite")
        subprocess.run([ARGS.binary, "zoo", "yolov8n", "--resolution", "128", "--dtype", "int8",
                        "-o", cls.model], check=True, capture_output=True)
        shutil.copy(os.path.join(ARGS.shared, "labels", "coco_labels.txt"),
                    os.path.join(folder, "labels.txt"))
        cls.daemon = Daemon(os.path.join(cls.tmp, "models"))

    def test_objects_match_tpufleet_run(self):
        with open(image_path("cat.bmp"), "rb") as f:
            reply = requests.post(self.daemon.url + "/v1/vision/custom/yolo",
                                  files={"image": ("cat.bmp", f.read())},
                                  data={"min_confidence": "0.3"}, timeout=60)
        self.assertEqual(reply.status_code, 200, reply.text)
        predictions = reply.json()["predictions"]
        self.assertGreater(len(predictions), 0)
        run = subprocess.run([ARGS.binary, "run", self.model, "--input", image_path("cat.bmp"),
                              "--labels", os.path.join(ARGS.shared, "labels", "coco_labels.txt"),
                              "--devices", "cpu", "--threshold", "0.3", "--top", "100", "--json"],
                             check=True, capture_output=True, text=True)
        detections = json.loads(run.stdout)["results"][0]["detections"]
        self.assertEqual(len(predictions), len(detections))
        with Image.open(image_path("cat.bmp")) as image:
            width, height = image.size
        pixel = lambda v, size: round(min(max(v, 0), size))
        for ours, theirs in zip(predictions, detections):
            self.assertEqual(ours["label"], theirs["label"])
            self.assertAlmostEqual(ours["confidence"], theirs["score"], places=5)
            box = theirs["box"]
            for key, size in [("xmin", width), ("ymin", height), ("xmax", width),
                              ("ymax", height)]:
                self.assertLessEqual(abs(ours[key[0] + "_" + key[1:]] - pixel(box[key], size)),
                                     1, (ours, theirs))


class LifecycleTest(unittest.TestCase):
    def test_sigterm_answers_what_was_admitted_and_exits_0(self):
        tmp = tempfile.mkdtemp(prefix="serve_drain_")
        try:
            make_repository(os.path.join(tmp, "models"))
            daemon = Daemon(os.path.join(tmp, "models"))
            outcomes = []
            stop = threading.Event()

            def client():
                with open(image_path("cat.bmp"), "rb") as f:
                    image = f.read()
                for _ in range(200):  # bounded
                    if stop.is_set():
                        return
                    try:
                        reply = requests.post(daemon.url + "/v1/vision/detection",
                                              files={"image": image}, timeout=60)
                        outcomes.append(reply.status_code)
                    except requests.ConnectionError:
                        outcomes.append("closed")
                        return

            threads = [threading.Thread(target=client) for _ in range(3)]
            for t in threads:
                t.start()
            while not outcomes:  # some requests answered: the others are in flight
                threading.Event().wait(0.01)
            code = daemon.stop()
            stop.set()
            for t in threads:
                t.join()
            self.assertEqual(code, 0, "".join(daemon.lines))
            self.assertEqual(len(daemon.events("draining")), 1)
            stopped = daemon.events("stopped")
            self.assertEqual(len(stopped), 1, "".join(daemon.lines))
            self.assertEqual(stopped[0]["in_flight"], "0")
            self.assertIn(200, outcomes)
            self.assertLessEqual(set(outcomes), {200, 503, "closed"}, outcomes)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)

    def test_a_port_in_use_is_refused_and_a_burst_of_clients_is_accepted(self):
        tmp = tempfile.mkdtemp(prefix="serve_port_")
        try:
            daemon = Daemon(tmp)
            try:
                # The accept queue is deep, not the HTTP library's 5: ss gives a listening
                # socket's backlog as its Send-Q.
                out = subprocess.run(["ss", "-Hltn", "sport = :%d" % daemon.port],
                                     capture_output=True, text=True, timeout=60, check=True)
                self.assertGreaterEqual(int(out.stdout.split()[2]), 128, out.stdout)
                with ThreadPoolExecutor(64) as pool:
                    codes = pool.map(lambda _: requests.get(daemon.url + "/v2/health/live",
                                                            timeout=60).status_code, range(64))
                    self.assertEqual(set(codes), {200})
                # A second daemon on the same port is an error, not a silent share of it.
                out = subprocess.run([ARGS.binary, "serve", "--models", tmp, "--simulate",
                                      "--http", "127.0.0.1:%d" % daemon.port],
                                     capture_output=True, text=True, timeout=60)
                self.assertNotEqual(out.returncode, 0, out.stderr)
                self.assertIn("cannot listen on 127.0.0.1:%d (in use" % daemon.port, out.stderr)
            finally:
                self.assertEqual(daemon.stop(), 0)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)

    def test_a_public_address_needs_an_api_key(self):
        tmp = tempfile.mkdtemp(prefix="serve_public_")
        try:
            out = subprocess.run([ARGS.binary, "serve", "--models", tmp, "--simulate", "--http",
                                  "0.0.0.0:0"], capture_output=True, text=True, timeout=60)
            self.assertEqual(out.returncode, 2)
            self.assertIn("needs --api-key-file", out.stderr)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)

    def test_a_plan_places_the_models_and_bad_plans_are_refused(self):
        tmp = tempfile.mkdtemp(prefix="serve_plan_")
        try:
            repository = os.path.join(tmp, "models")
            make_repository(repository)
            ssd = os.path.join(repository, "ssd",
                               "ssd_mobilenet_v1_coco_quant_postprocess_2018_06_29.tflite")
            plan = {"models": [{"model": "mobilenet_v2_1.0_224_quant.tflite", "rate": 10},
                               {"model": ssd, "rate": 10}],
                    "devices": ["sim:0", "sim:1", "sim:2"],
                    "topology": {"devices": [{}, {}, {}]},
                    "units": [{"models": ["mobilenet_v2_1.0_224_quant.tflite"],
                               "devices": ["sim:1", "sim:2"]},
                              {"models": [ssd], "devices": ["sim:0"]}]}
            plan_file = os.path.join(tmp, "plan.json")
            with open(plan_file, "w") as f:
                json.dump(plan, f)
            daemon = Daemon(repository, "--plan", plan_file)
            try:
                started = daemon.events("fleet started")[0]
                self.assertEqual(started["devices"], "sim:0,sim:1,sim:2")
                for name, devices in [("mobilenet", "sim:1,sim:2"), ("ssd", "sim:0")]:
                    meta = requests.get(daemon.url + "/v2/models/" + name, timeout=60).json()
                    self.assertEqual(meta["properties"]["devices"], devices, meta)
                reply = infer_binary(daemon.url, cat_pixels(224))
                self.assertEqual(reply.status_code, 200, reply.text)
            finally:
                self.assertEqual(daemon.stop(), 0)
            plan["units"][0]["models"] = ["elsewhere.tflite"]
            plan["models"][0]["model"] = "elsewhere.tflite"
            with open(plan_file, "w") as f:
                json.dump(plan, f)
            for extra, message in [
                    (["--plan", plan_file], "plan model 'elsewhere.tflite' is served by no entry"),
                    (["--plan", plan_file, "--devices", "sim:0"], "leave out --devices"),
                    (["--plan", os.path.join(tmp, "none.json")], "none.json")]:
                out = subprocess.run([ARGS.binary, "serve", "--models", repository, "--simulate",
                                      "--http", "127.0.0.1:0", *extra],
                                     capture_output=True, text=True, timeout=60)
                self.assertNotEqual(out.returncode, 0, extra)
                self.assertIn(message, out.stderr, extra)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)


def parse_arguments(parser):
    """--binary and --shared (and what `parser` adds) into ARGS; exits when the models are
    missing. Returns the arguments left for unittest."""
    global ARGS
    parser.add_argument("--binary", required=True)
    parser.add_argument("--shared", required=True)
    ARGS, rest = parser.parse_known_args()
    if not os.path.exists(os.path.join(ARGS.shared, "models",
                                       "ssd_mobilenet_v1_coco_quant_postprocess_2018_06_29.tflite")):
        print("the real models are missing from %s/models" % ARGS.shared)
        sys.exit(1)
    return rest


if __name__ == "__main__":
    rest = parse_arguments(argparse.ArgumentParser())
    unittest.main(argv=[sys.argv[0]] + rest, verbosity=2)
