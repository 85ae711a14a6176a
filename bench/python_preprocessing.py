"""Image preprocessing for two models on two simulated sticks in real time, fed from Python:
  1. Pillow in the calling threads: one Python thread per model decodes each image file,
     converts and resizes it (bilinear) to the model's input with Pillow, and submits the array;
  2. submit_image: one Python thread submits the image files' paths, and tpufleet decodes and
     resizes them on its own preparation threads, without the GIL.
Both keep up to IN_FLIGHT requests queued per model. The throughput ratio (2 over 1) is what
moving preprocessing off the GIL gains; the devices only time the models (sim_outputs off).

    PYTHONPATH=build/python/stage /usr/bin/python3 bench/python_preprocessing.py [images] [image file]
"""
import collections
import os
import sys
import time

import numpy as np
from PIL import Image

import tpufleet
from python_threads import threads_seconds

HERE = os.path.dirname(os.path.abspath(__file__))
SHARED = os.path.join(HERE, "..", "..", "shared")
MODELS = [os.path.join(SHARED, "models", name) for name in
          ("mobilenet_v2_1.0_224_quant_edgetpu.tflite",
           "mobilenet_v1_0.25_128_quant_edgetpu.tflite")]
IMAGE = os.path.join(SHARED, "images", "kite_and_cold.jpg")  # or argv[2]
TIMING = {"real_time": True, "sim_outputs": False}
IN_FLIGHT = 16


def feed(submit, items):
    """Submits every item, keeping at most IN_FLIGHT unanswered; waits for all answers."""
    in_flight = collections.deque()
    for item in items:
        if len(in_flight) == IN_FLIGHT:
            in_flight.popleft().result()
        in_flight.append(submit(item))
    for future in in_flight:
        future.result()


def pillow_input(path, size):
    with Image.open(path) as img:
        return np.asarray(img.convert("RGB").resize(size, Image.BILINEAR))[np.newaxis]


def fleet_with_models():
    fleet = tpufleet.Fleet(devices=["sim:0", "sim:1"], **TIMING)
    ids = [fleet.add_model(path, [f"sim:{i}"]) for i, path in enumerate(MODELS)]
    return fleet, ids


def input_size(path):
    model = tpufleet.Model.from_file(path)
    shape = model.tensors[model.input_indices[0]]["shape"]
    return shape[2], shape[1]


def pillow_seconds(images):
    fleet, ids = fleet_with_models()
    with fleet:
        sizes = [input_size(path) for path in MODELS]
        for model_id, size in zip(ids, sizes):  # parameters cached before timing
            fleet.run(model_id, [pillow_input(IMAGE, size)])

        def drive(model_id, size):
            feed(lambda path: fleet.submit(model_id, [pillow_input(path, size)]),
                 [IMAGE] * images)

        return threads_seconds(drive, list(zip(ids, sizes)))


def submit_image_seconds(images):
    fleet, ids = fleet_with_models()
    with fleet:
        for model_id in ids:
            fleet.submit_image(model_id, IMAGE).result()
        start = time.perf_counter()
        feed(lambda pair: fleet.submit_image(pair[0], pair[1]),
             [(model_id, IMAGE) for _ in range(images) for model_id in ids])
        return time.perf_counter() - start


def main():
    global IMAGE
    images = int(sys.argv[1]) if len(sys.argv) > 1 else 200
    if len(sys.argv) > 2:
        IMAGE = sys.argv[2]
    with Image.open(IMAGE) as img:
        print(f"{os.path.basename(IMAGE)} ({img.size[0]}x{img.size[1]} {img.format}) to "
              f"{', '.join(os.path.basename(m) for m in MODELS)}, {images} images per model, "
              f"{os.cpu_count()} CPUs")
    pillow = pillow_seconds(images)
    native = submit_image_seconds(images)
    total = 2 * images
    print(f"Pillow in two Python threads: {total / pillow:7.1f} images/s")
    print(f"submit_image from one thread: {total / native:7.1f} images/s, ratio "
          f"{pillow / native:.2f}x")


if __name__ == "__main__":
    main()
