"""pycoral.learn.imprinting.engine over tpufleet: validation of the model's tail, training on
real embeddings (the extractor model's outputs for crops of the shared images), the written
model classifying those images through tflite_runtime's Interpreter, and keep_classes."""
import numpy as np
import pytest

from conftest import model
from learn_models import BACKBONE, KERNEL_QUANTIZATION, imprinting_model
from pycoral.learn.imprinting.engine import ImprintingEngine
from test_pycoral_learn import IMAGES, crops
from tflite_runtime.interpreter import Interpreter


def written(tmp_path, content, name="model.tflite"):
    path = tmp_path / name
    path.write_bytes(content)
    return str(path)


@pytest.fixture
def base_model(tmp_path):
    return written(tmp_path, imprinting_model(model(BACKBONE)), "base.tflite")


def run(content, pixels):
    """The uint8 outputs of the model `content` (bytes) on each image of `pixels`."""
    interpreter = Interpreter(model_content=content)
    interpreter.allocate_tensors()
    input_index = interpreter.get_input_details()[0]["index"]
    output = interpreter.get_output_details()[0]
    outputs = []
    for image in pixels:
        interpreter.set_tensor(input_index, image[np.newaxis])
        interpreter.invoke()
        outputs.append(interpreter.get_tensor(output["index"]).reshape(-1).copy())
    return np.array(outputs), output


def embeddings(extractor, pixels):
    outputs, detail = run(extractor, pixels)
    scale, zero_point = detail["quantization"]
    return scale * (outputs.astype(np.float32) - zero_point)


def image_crops(per_image, seed):
    rng = np.random.default_rng(seed)
    return [crops(name, per_image, rng, (128, 128)) for name in IMAGES]


@pytest.mark.parametrize("kwargs, message", [
    (dict(l2norm=False),
     "Unsupported model architecture. Input model must have an L2Norm layer."),
    (dict(mul=False), "The last 4 operators must be Conv2d, Mul, Reshape, Softmax"),
    (dict(op_between="RELU"), "Unsupported model architecture. L2Norm operator must be "
                              "followed with the last Conv2d operator."),
    (dict(embedding_shape=[1, 1, 2, 128]),
     "Embedding extractor's output tensor should be [1, 1, 1, x]"),
    (dict(bias_zero_point=256), "bias_zero_point is out of [0, 255] range!"),
    (dict(logit_shape=[1, 1, 3]), "Logit output tensor should be [1, x]"),
    (dict(softmax_output=False), "Graph must have output from Softmax"),
])
def test_models_that_break_a_rule_are_refused_with_libcorals_message(tmp_path, kwargs, message):
    path = written(tmp_path, imprinting_model(model(BACKBONE), **kwargs))
    with pytest.raises(ValueError) as error:
        ImprintingEngine(path)
    assert str(error.value) == message


def test_a_quantize_between_l2norm_and_conv_is_allowed(tmp_path):
    engine = ImprintingEngine(written(tmp_path, imprinting_model(model(BACKBONE),
                                                                 op_between="QUANTIZE")))
    assert engine.embedding_dim == 256


def test_unreadable_files(tmp_path):
    missing = str(tmp_path / "missing.tflite")
    with pytest.raises(ValueError, match=r"^Failed to open file: .*missing\.tflite$"):
        ImprintingEngine(missing)
    garbage = written(tmp_path, b"not a model", "garbage.tflite")
    with pytest.raises(ValueError, match="Failed to open file: "):
        ImprintingEngine(garbage)


def test_properties_and_train_errors(base_model):
    engine = ImprintingEngine(base_model)
    assert engine.embedding_dim == 256 and engine.num_classes == 0
    with pytest.raises(RuntimeError, match=r"^Model is not trained\.$"):
        engine.serialize_model()
    with pytest.raises(RuntimeError, match=r"^Invalid weights array shape\.$"):
        engine.train(np.ones(255), 0)
    with pytest.raises(RuntimeError, match=r"^Invalid weights array shape\.$"):
        engine.train(np.ones((1, 256)), 0)
    with pytest.raises(RuntimeError, match="^The class index of a new category is too large!$"):
        engine.train(np.ones(256), 1)
    engine.train(np.ones(256), 0)
    engine.train([0.5] * 256, 0)
    assert engine.num_classes == 1
    kept = ImprintingEngine(base_model, keep_classes=True)
    assert kept.num_classes == 3
    with pytest.raises(RuntimeError, match="^Cannot change the base model classes not trained "
                                           "with imprinting method!$"):
        kept.train(np.ones(256), 2)


def test_extractor_outputs_the_l2_normalized_embedding(base_model):
    engine = ImprintingEngine(base_model)
    extractor = engine.serialize_extractor_model()
    outputs, detail = run(extractor, [crops_[0] for crops_ in image_crops(1, seed=3)])
    assert detail["dtype"] == np.uint8 and list(detail["shape"]) == [1, 1, 1, 256]
    assert detail["quantization"] == (1.0 / 128, 128)
    norms = np.linalg.norm((outputs.astype(np.float32) - 128) / 128, axis=1)
    assert np.all(np.abs(norms - 1.0) < 0.05), norms


def test_trained_model_classifies_the_images_it_was_trained_on(base_model, tmp_path):
    engine = ImprintingEngine(base_model)
    extractor = engine.serialize_extractor_model()
    for class_id, pixels in enumerate(image_crops(8, seed=1)):
        for embedding in embeddings(extractor, pixels):
            engine.train(embedding, class_id)
    assert engine.num_classes == len(IMAGES)
    content = engine.serialize_model()
    held_out = image_crops(6, seed=2)
    correct = total = 0
    for class_id, pixels in enumerate(held_out):
        scores, detail = run(content, pixels)
        assert detail["dtype"] == np.uint8 and list(detail["shape"]) == [1, len(IMAGES)]
        assert detail["quantization"] == (1.0 / 256, 0)
        correct += int(np.sum(np.argmax(scores, axis=1) == class_id))
        total += len(pixels)
    assert correct / total >= 0.9, f"{correct} of {total} held-out crops classified right"
    # The scores are the softmax of MUL_SCALE * cosine similarity to the normalized class sums.
    sums = []
    for class_id, pixels in enumerate(image_crops(8, seed=1)):
        sums.append(embeddings(extractor, pixels).sum(axis=0))
    sums = np.array(sums)
    unit = sums / np.linalg.norm(sums, axis=1, keepdims=True)
    probe = embeddings(extractor, held_out[0][:1])[0]
    logits = 10.0 * unit @ probe
    expected = np.exp(logits - logits.max()) / np.exp(logits - logits.max()).sum()
    scores, _ = run(content, held_out[0][:1])
    assert np.max(np.abs(scores[0] / 256.0 - expected)) < 0.05
    kept = ImprintingEngine(written(tmp_path, content, "trained.tflite"), keep_classes=True)
    assert kept.num_classes == len(IMAGES)


def test_description_lines_and_keep_classes_round_trip(base_model, tmp_path):
    from tpufleet import Model
    extractor = ImprintingEngine(base_model).serialize_extractor_model()
    training = [embeddings(extractor, pixels) for pixels in image_crops(6, seed=4)]
    first = ImprintingEngine(base_model, keep_classes=True)
    for class_id, vectors in ((3, training[0]), (4, training[1])):
        for vector in vectors:
            first.train(vector, class_id)
    with pytest.raises(RuntimeError, match="^The class index of a new category is too large!$"):
        first.train(training[2][0], 6)
    first_path = written(tmp_path, first.serialize_model(), "first.tflite")
    written_model = Model.from_file(first_path)
    lines = written_model.description.splitlines()
    assert [line.split()[0] for line in lines] == ["3", "4"]
    for line, vectors in zip(lines, training):
        assert float(line.split()[1]) == pytest.approx(np.linalg.norm(vectors.sum(axis=0)),
                                                       rel=1e-5)

    second = ImprintingEngine(first_path, keep_classes=True)
    assert second.num_classes == 5
    for vector in training[2]:
        second.train(vector, 5)
    second.train(training[0][0], 3)  # a class trained with imprinting may be trained further
    with pytest.raises(RuntimeError, match="^Cannot change the base model classes"):
        second.train(training[0][0], 1)
    content = second.serialize_model()

    def kernel(m):
        conv = [op for op in m.operators if op["name"] == "CONV_2D"][-1]
        return np.frombuffer(m.constant_data(conv["inputs"][1]), np.uint8).reshape(
            m.tensors[conv["inputs"][1]]["shape"][0], -1)

    base_rows = kernel(Model.from_file(base_model))
    final = Model.from_bytes(content)
    assert np.array_equal(kernel(final)[:3], base_rows), "base classes must stay frozen"
    assert [line.split()[0] for line in final.description.splitlines()] == ["3", "4", "5"]
    for class_id, pixels in zip((3, 4, 5), image_crops(3, seed=9)):
        scores, _ = run(content, pixels)
        assert list(np.argmax(scores, axis=1)) == [class_id] * 3
    # Class 3's row is its normalized sum over both rounds of training.
    total = training[0].sum(axis=0) + training[0][0]
    scale, zero_point = KERNEL_QUANTIZATION
    expected = np.clip(np.round(total / np.linalg.norm(total) / scale[0]) + zero_point[0], 0, 255)
    assert np.max(np.abs(kernel(final)[3].astype(int) - expected)) <= 1


def test_written_models_run_in_tensorflow_lite_as_in_tpufleet(base_model, tmp_path):
    """TensorFlow Lite 2.9 (the oracle) reads the written models and computes what tpufleet
    does on the same inputs: the same top class, the outputs within the steps docs/cpu.md gives
    for real models (rounding differs in the backbone; softmax widens a logit step)."""
    import os
    from learn_models import extractor_model
    from test_pycoral_learn import trained_classifier
    from tflite_c import LIBRARY, TfLiteC
    if not os.path.exists(LIBRARY):
        pytest.skip(f"{LIBRARY} is missing: link third_party into the checkout")
    engine = ImprintingEngine(base_model)
    extractor = engine.serialize_extractor_model()
    for class_id, pixels in enumerate(image_crops(3, seed=6)):
        for embedding in embeddings(extractor, pixels):
            engine.train(embedding, class_id)
    pool = written(tmp_path, extractor_model(model(BACKBONE)), "pool.tflite")
    classifier = trained_classifier(pool, learning_rate=0.05)
    contents = {"extractor": (extractor, 2), "imprinted": (engine.serialize_model(), 24),
                "softmax regression": (classifier.serialize_model(pool), 24)}
    pixels = [crops_[0] for crops_ in image_crops(2, seed=8)]
    for name, (content, steps) in contents.items():
        ours, _ = run(content, pixels)
        oracle = TfLiteC(written(tmp_path, content, name.replace(" ", "_") + ".tflite"))
        try:
            for image, expected in zip(pixels, ours):
                oracle.set_input(np.ascontiguousarray(image[np.newaxis]))
                oracle.invoke()
                theirs = oracle.output(expected)
                difference = np.abs(theirs.astype(int) - expected.astype(int)).max()
                assert difference <= steps, f"{name}: outputs differ by {difference} steps"
                if name != "extractor":
                    assert np.argmax(theirs) == np.argmax(expected), name
        finally:
            oracle.close()
