"""Label files, as pycoral.utils.dataset reads them."""
import re


def read_labels(file_path, unnumbered):
    """{id: label} from a label file: "ID label" / "ID: label" lines, and for other lines the
    row number (from 0, blank lines count) and unnumbered(stripped line, its first token)."""
    with open(file_path, "r", encoding="utf-8") as f:
        lines = f.readlines()
    ret = {}
    for row_number, content in enumerate(lines):
        pair = re.split(r"[:\s]+", content.strip(), maxsplit=1)
        if len(pair) == 2 and pair[0].strip().isdigit():
            ret[int(pair[0])] = pair[1].strip()
        else:
            ret[row_number] = unnumbered(content.strip(), pair[0].strip())
    return ret


def read_label_file(file_path):
    """{id: label} from a label file: "ID label" / "ID: label" lines, or one label per line
    numbered from 0 (blank lines count); the two forms may be mixed."""
    return read_labels(file_path, lambda line, first_token: line)
