"""edgetpu.learn over tpufleet on the simulated rig: the old API's imprinting engine trained on
images (its extractor on an auto-assigned device), its errors as RuntimeError, and the old
SoftmaxRegression names."""
import gc

import numpy as np
import pytest

from conftest import model
from edgetpu.basic import edgetpu_utils
from edgetpu.learn.backprop.softmax_regression import SoftmaxRegression
from edgetpu.learn.imprinting.engine import ImprintingEngine
from learn_models import BACKBONE, imprinting_model
from test_pycoral_learn import IMAGES, crops, embeddings
from tflite_runtime.interpreter import Interpreter


@pytest.fixture
def base_model(tmp_path, simulated):
    path = tmp_path / "base.tflite"
    path.write_bytes(imprinting_model(model(BACKBONE)))
    yield str(path)
    gc.collect()


def flat_crops(per_image, seed):
    rng = np.random.default_rng(seed)
    return [np.array([c.flatten() for c in crops(name, per_image, rng, (128, 128))])
            for name in IMAGES]


def test_trains_on_images_classifies_and_saves(base_model, tmp_path):
    engine = ImprintingEngine(base_model)
    assert len(edgetpu_utils.ListEdgeTpuPaths(edgetpu_utils.EDGE_TPU_STATE_ASSIGNED)) == 1
    with pytest.raises(RuntimeError, match="^Model without training won't be saved!$"):
        engine.save_model(str(tmp_path / "untrained.tflite"))
    engine.train_all(flat_crops(6, seed=1))
    held_out = flat_crops(4, seed=2)
    right = sum(engine.classify_with_input_tensor(image, top_k=1)[0][0] == class_id
                for class_id, images in enumerate(held_out) for image in images)
    assert right >= 0.9 * 4 * len(IMAGES)
    top = engine.classify_with_input_tensor(held_out[0][0], top_k=len(IMAGES))
    assert [score for _, score in top] == sorted((score for _, score in top), reverse=True)
    saved = tmp_path / "trained.tflite"
    engine.save_model(str(saved))
    interpreter = Interpreter(model_path=str(saved))
    interpreter.allocate_tensors()
    assert list(interpreter.get_output_details()[0]["shape"]) == [1, len(IMAGES)]
    # Further training of a trained class, and images to a new class after it.
    engine.train(held_out[1][:2], 1)
    with pytest.raises(RuntimeError, match="^The class index of a new category is too large!$"):
        engine.train(held_out[1][:1], 9)
    with pytest.raises(RuntimeError, match="at most 200 images"):
        engine.train(np.zeros((201, 128 * 128 * 3), np.uint8), 4)


def test_errors_are_runtime_errors_with_the_old_texts(tmp_path, simulated):
    with pytest.raises(RuntimeError, match=r"^Failed to open file: .*missing\.tflite$"):
        ImprintingEngine(str(tmp_path / "missing.tflite"))
    with pytest.raises(RuntimeError, match="^Unsupported model architecture. Input model must "
                                           "have an L2Norm layer.$"):
        ImprintingEngine(model(BACKBONE))


def test_softmax_regression_old_names(tmp_path):
    train, train_labels = embeddings(10, seed=1)
    classifier = SoftmaxRegression(train.shape[1], len(IMAGES))
    classifier.train_with_sgd({"data_train": train, "labels_train": train_labels,
                               "data_val": train, "labels_val": train_labels},
                              num_iter=300, learning_rate=10.0, batch_size=16, print_every=0)
    predicted = classifier.run_inference(train)
    assert float(np.mean(predicted == train_labels)) == classifier.get_accuracy(train,
                                                                                train_labels)
    out = tmp_path / "classifier.tflite"
    classifier.save_as_tflite_model(model(BACKBONE), str(out))
    interpreter = Interpreter(model_path=str(out))
    interpreter.allocate_tensors()
    assert list(interpreter.get_output_details()[0]["shape"]) == [1, len(IMAGES)]
    with pytest.raises(RuntimeError, match="^Failed to open file: "):
        classifier.save_as_tflite_model(str(tmp_path / "missing.tflite"), str(out))
