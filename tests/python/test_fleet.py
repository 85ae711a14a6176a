"""tpufleet.Fleet from Python: futures, asyncio, images prepared on the fleet's threads,
metrics, errors."""
import asyncio
import json

import numpy as np
import pytest

import tpufleet
from conftest import image, model, shared_file

MOBILENET_V2 = "mobilenet_v2_1.0_224_quant_edgetpu.tflite"


@pytest.fixture
def fleet():
    with tpufleet.Fleet(devices=["sim:0", "sim:1"]) as f:
        yield f


def test_submit_answers_as_the_interpreter_does(fleet):
    mid = fleet.add_model(model(MOBILENET_V2))
    pixels = image("cat.bmp", (224, 224))[np.newaxis]
    futures = [fleet.submit(mid, [pixels]) for _ in range(4)]
    results = [f.result(timeout=60) for f in futures]
    expected = tpufleet.make_interpreter(model(MOBILENET_V2), "sim:0").run(pixels)[0]
    for result in results:
        assert result.outputs[0].shape == (1, 1001) and result.outputs[0].dtype == np.uint8
        assert result.outputs[0].tobytes() == expected.tobytes()
        assert result.device in fleet.device_names and not result.timing_only
    assert int(results[0].outputs[0].argmax()) == 286


def test_submit_image_on_the_fleets_threads(fleet):
    mid = fleet.add_model(model(MOBILENET_V2))
    result = fleet.submit_image(mid, shared_file("images", "cat.bmp")).result(timeout=60)
    assert int(result.outputs[0].argmax()) == 286
    failed = fleet.submit_image(mid, "/no/such/image.bmp")
    with pytest.raises(tpufleet.Error, match="/no/such/image.bmp"):
        failed.result(timeout=60)


def test_asyncio(fleet):
    mid = fleet.add_model(model(MOBILENET_V2))
    pixels = image("cat.bmp", (224, 224))[np.newaxis]

    async def main():
        return await asyncio.gather(*(fleet.submit_async(mid, [pixels]) for _ in range(3)))

    results = asyncio.run(main())
    assert len({r.outputs[0].tobytes() for r in results}) == 1


def test_wrong_inputs_and_models(fleet):
    mid = fleet.add_model(model(MOBILENET_V2))
    with pytest.raises(tpufleet.Error) as error:
        fleet.submit(mid, [np.zeros((1, 10), np.uint8)])
    assert error.value.code == "INVALID_ARGUMENT" and "150528 elements of uint8" in str(error.value)
    with pytest.raises(tpufleet.Error, match="model 7 was never added"):
        fleet.submit(7, [np.zeros((1, 224, 224, 3), np.uint8)])
    with pytest.raises(tpufleet.Error) as error:
        fleet.add_model(model(MOBILENET_V2), devices=["sim:5"])
    assert error.value.code == "NOT_FOUND"


def test_metrics(fleet):
    mid = fleet.add_model(model(MOBILENET_V2))
    fleet.run(mid, [image("cat.bmp", (224, 224))[np.newaxis]])
    metrics = fleet.metrics()
    assert sum(d["requests"] for d in metrics["devices"]) == 1
    assert metrics["models"][0]["requests"] == 1
    assert json.loads(fleet.metrics_json())["models"][0]["requests"] == 1
    assert "tpufleet_" in fleet.metrics_prometheus()


def test_closed_fleet_refuses():
    f = tpufleet.Fleet(devices=["sim:0"])
    f.close()
    with pytest.raises(tpufleet.Error, match="the fleet is closed"):
        f.metrics()
