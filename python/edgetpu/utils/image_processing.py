"""edgetpu.utils.image_processing: resizing that keeps the aspect ratio."""
from PIL import Image


def resampling_with_original_ratio(img, required_size, sample):
    """(img fitted into `required_size` keeping its aspect ratio and padded black on the right
    and bottom, (new_width / required_width, new_height / required_height))."""
    old_size = img.size
    ratio = min(float(required_size[i]) / old_size[i] for i in range(2))
    new_size = tuple(int(old_size[i] * ratio) for i in range(2))
    padded = Image.new(img.mode, required_size)
    padded.paste(img.resize(new_size, sample), (0, 0))
    return padded, (new_size[0] / required_size[0], new_size[1] / required_size[1])
