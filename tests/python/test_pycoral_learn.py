"""pycoral.learn over tpufleet: SoftmaxRegression trained with numpy on real embeddings (a
classifier's scores on crops of the shared images) and on separable synthetic data."""
import numpy as np
import pytest
from PIL import Image

from conftest import model, shared_file
from learn_models import BACKBONE, extractor_model
from pycoral.learn.backprop.softmax_regression import SoftmaxRegression
from tflite_runtime.interpreter import Interpreter

IMAGES = ("cat.bmp", "bird.bmp", "grace_hopper.bmp", "kite_and_cold.jpg")


def crops(name, count, rng, size):
    """`count` random crops (60-100% of each side, some mirrored) of a shared image, resized."""
    with Image.open(shared_file("images", name)) as img:
        img = img.convert("RGB")
        width, height = img.size
        out = []
        for _ in range(count):
            w = int(width * rng.uniform(0.6, 1.0))
            h = int(height * rng.uniform(0.6, 1.0))
            x, y = int(rng.integers(0, width - w + 1)), int(rng.integers(0, height - h + 1))
            crop = img.crop((x, y, x + w, y + h)).resize(size, Image.BILINEAR)
            if rng.random() < 0.5:
                crop = crop.transpose(Image.FLIP_LEFT_RIGHT)
            out.append(np.asarray(crop))
        return out


def run_on_crops(model_path, per_image, seed):
    """The outputs of the model at `model_path` (on the CPU) for random crops of each shared
    image, flattened, dequantized when the output is quantized, with the output details and the
    image each crop came from as its label."""
    interpreter = Interpreter(model_path=model_path)
    interpreter.allocate_tensors()
    input_index = interpreter.get_input_details()[0]["index"]
    output = interpreter.get_output_details()[0]
    scale, zero_point = output["quantization"]
    rng = np.random.default_rng(seed)
    outputs, labels = [], []
    for label, name in enumerate(IMAGES):
        for pixels in crops(name, per_image, rng, (128, 128)):
            interpreter.set_tensor(input_index, pixels[np.newaxis])
            interpreter.invoke()
            values = interpreter.get_tensor(output["index"]).reshape(-1).astype(np.float32)
            outputs.append(scale * (values - zero_point) if scale else values)
            labels.append(label)
    return np.array(outputs, dtype=np.float32), output, np.array(labels)


def embeddings(per_image, seed, extractor_path=None):
    """The dequantized outputs of an embedding extractor (by default mobilenet_v1_0.25_128's
    1001 scores) for random crops of each shared image, and the image each came from."""
    features, _, labels = run_on_crops(
        extractor_path or model("mobilenet_v1_0.25_128_quant.tflite"), per_image, seed)
    return features, labels


def test_learns_to_tell_the_shared_images_apart_from_real_embeddings():
    train, train_labels = embeddings(12, seed=1)
    validation, validation_labels = embeddings(6, seed=2)
    model_ = SoftmaxRegression(train.shape[1], len(IMAGES))
    before = model_.get_accuracy(validation, validation_labels)
    model_.train_with_sgd({"data_train": train, "labels_train": train_labels,
                           "data_val": validation, "labels_val": validation_labels},
                          num_iter=500, learning_rate=10.0, batch_size=16, print_every=0)
    after = model_.get_accuracy(validation, validation_labels)
    assert after >= 0.9, f"validation accuracy {after} (before training {before})"
    assert model_.get_accuracy(train, train_labels) >= 0.9


def separable(rng, per_class, centers):
    data = np.concatenate([c + 0.3 * rng.standard_normal((per_class, centers.shape[1]))
                           for c in centers]).astype(np.float32)
    return data, np.repeat(np.arange(len(centers)), per_class)


def test_learns_separable_synthetic_classes():
    rng = np.random.default_rng(7)
    centers = 2.0 * rng.standard_normal((5, 16))
    train, train_labels = separable(rng, 40, centers)
    validation, validation_labels = separable(rng, 20, centers)
    model_ = SoftmaxRegression(16, 5, weight_scale=0.01, reg=0.0)
    model_.train_with_sgd({"data_train": train, "labels_train": train_labels,
                           "data_val": validation, "labels_val": validation_labels},
                          num_iter=300, learning_rate=0.1, batch_size=50, print_every=100)
    accuracy = model_.get_accuracy(validation, validation_labels)
    assert 0.95 <= accuracy <= 1.0


def test_accuracy_is_the_fraction_of_rows_right():
    rng = np.random.default_rng(3)
    data, labels = separable(rng, 50, 2.0 * rng.standard_normal((4, 8)))
    # Zero weights: every logit 0, so every row is taken for class 0 (a quarter of them).
    assert SoftmaxRegression(8, 4, weight_scale=0.0).get_accuracy(data, labels) == 0.25


def test_rejects_data_of_the_wrong_type_or_shape():
    model_ = SoftmaxRegression(4, 2)
    labels = [0, 1]
    with pytest.raises(RuntimeError, match="Incompatible format: expected a float array!"):
        model_.get_accuracy(np.zeros((2, 4), dtype=np.float64), labels)
    with pytest.raises(RuntimeError, match="Incompatible buffer dimension!"):
        model_.get_accuracy(np.zeros(8, dtype=np.float32), labels)
    with pytest.raises(ValueError, match="has 3 features per row; the model takes 4"):
        model_.get_accuracy(np.zeros((2, 3), dtype=np.float32), labels)
    with pytest.raises(ValueError, match="3 labels for 2 rows"):
        model_.get_accuracy(np.zeros((2, 4), dtype=np.float32), [0, 1, 1])
    with pytest.raises(TypeError):
        SoftmaxRegression()


def trained_classifier(extractor_path, learning_rate):
    train, train_labels = embeddings(12, 1, extractor_path)
    validation, validation_labels = embeddings(6, 2, extractor_path)
    classifier = SoftmaxRegression(train.shape[1], len(IMAGES))
    classifier.train_with_sgd({"data_train": train, "labels_train": train_labels,
                               "data_val": validation, "labels_val": validation_labels},
                              num_iter=500, learning_rate=learning_rate, batch_size=16,
                              print_every=0)
    return classifier


@pytest.mark.parametrize("extractor, learning_rate", [
    ("scores [1, 1001]", 10.0),  # the whole classifier as the extractor: FC + SOFTMAX appended
    ("pool [1, 1, 1, 256]", 0.05),  # cut at the pool: RESHAPE + FC + SOFTMAX appended
])
def test_serialized_model_gives_the_classes_the_trained_classifier_gives(
        tmp_path, extractor, learning_rate):
    if extractor.startswith("pool"):
        extractor_path = tmp_path / "extractor.tflite"
        extractor_path.write_bytes(extractor_model(model(BACKBONE)))
        extractor_path = str(extractor_path)
    else:
        extractor_path = model(BACKBONE)
    classifier = trained_classifier(extractor_path, learning_rate)
    classified_path = tmp_path / "classifier.tflite"
    classified_path.write_bytes(classifier.serialize_model(extractor_path))

    features, labels = embeddings(5, 3, extractor_path)
    probabilities, detail, crop_labels = run_on_crops(str(classified_path), 5, 3)
    assert np.array_equal(crop_labels, labels)
    assert detail["dtype"] == np.uint8 and list(detail["shape"]) == [1, len(IMAGES)]
    assert detail["quantization"] == (1.0 / 256, 0)
    model_right = np.argmax(probabilities, axis=1) == labels
    classifier_right = np.array([classifier.get_accuracy(features[i:i + 1], labels[i:i + 1])
                                 for i in range(len(labels))]) == 1.0
    agreement = float(np.mean(model_right == classifier_right))
    assert agreement >= 0.95, (model_right, classifier_right)
    assert abs(float(np.mean(model_right)) - classifier.get_accuracy(features, labels)) <= 0.05
    assert classifier.get_accuracy(features, labels) >= 0.8


def test_serialize_model_of_an_untrained_classifier_and_bad_extractors(tmp_path):
    from tpufleet import Model
    untrained = SoftmaxRegression(1001, 4)
    written = Model.from_bytes(untrained.serialize_model(model(BACKBONE)))
    assert [op["name"] for op in written.operators][-2:] == ["FULLY_CONNECTED", "SOFTMAX"]
    logits = written.tensors[written.operators[-1]["inputs"][0]]
    assert logits["scales"] == [0.0] and logits["zero_points"] == [0]
    assert written.tensors[written.output_indices[0]]["shape"] == [1, 4]

    with pytest.raises(ValueError, match=r"^Failed to open file: .*missing\.tflite$"):
        untrained.serialize_model(str(tmp_path / "missing.tflite"))
    with pytest.raises(ValueError, match="the classifier takes a quantized uint8 embedding of "
                                         "256 values"):
        SoftmaxRegression(256, 4).serialize_model(model(BACKBONE))
    with pytest.raises(ValueError, match="1 subgraphs and 4 outputs: an embedding extractor has "
                                         "one of each"):
        untrained.serialize_model(model("ssd_mobilenet_v1_coco_quant_postprocess_2018_06_29.tflite"))
