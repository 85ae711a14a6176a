"""edgetpu.utils.dataset_utils: label files."""
from pycoral.utils.dataset import read_labels


def read_label_file(file_path):
    """{id: label}: 'N label' lines (':' or whitespace after the id), else the row number and
    the line's first token."""
    return read_labels(file_path, lambda line, first_token: first_token)
