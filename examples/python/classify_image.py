"""Classifies an image, as Coral's examples/classify_image.py does, on tpufleet.

    TPUFLEET_SIMULATE=1 python3 classify_image.py \\
        -m ../shared/models/mobilenet_v2_1.0_224_quant_edgetpu.tflite \\
        -l ../shared/labels/imagenet_labels.txt -i ../shared/images/cat.bmp

Unchanged PyCoral code: only the packages underneath are tpufleet's.
"""
import argparse
import time

import numpy as np
from PIL import Image

from pycoral.adapters import classify, common
from pycoral.utils.dataset import read_label_file
from pycoral.utils.edgetpu import make_interpreter


def main():
    parser = argparse.ArgumentParser(formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("-m", "--model", required=True, help="File path of .tflite file.")
    parser.add_argument("-i", "--input", required=True, help="Image to be classified.")
    parser.add_argument("-l", "--labels", help="File path of labels file.")
    parser.add_argument("-k", "--top_k", type=int, default=1, help="Max number of results")
    parser.add_argument("-t", "--threshold", type=float, default=0.0, help="Score threshold")
    parser.add_argument("-c", "--count", type=int, default=5, help="Number of inferences")
    args = parser.parse_args()

    labels = read_label_file(args.labels) if args.labels else {}
    interpreter = make_interpreter(*args.model.split("@"))
    interpreter.allocate_tensors()
    if common.input_details(interpreter, "dtype") != np.uint8:
        raise ValueError("Only support uint8 input type.")
    size = common.input_size(interpreter)
    image = Image.open(args.input).convert("RGB").resize(size, Image.BILINEAR)
    common.set_input(interpreter, image)

    print("----INFERENCE TIME----")
    for _ in range(args.count):
        start = time.perf_counter()
        interpreter.invoke()
        inference_time = time.perf_counter() - start
        classes = classify.get_classes(interpreter, args.top_k, args.threshold)
        print(f"{inference_time * 1000:.1f}ms")
    print("-------RESULTS--------")
    for c in classes:
        print(f"{labels.get(c.id, c.id)}: {c.score:.5f}")


if __name__ == "__main__":
    main()
