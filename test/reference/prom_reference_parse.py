"""Reference parse of a Prometheus text file with prometheus_client, printed as JSON.

Used by test/prometheus-reference.test.ts to check core/prometheus/parse.ts against an independent
parser. Usage: prom_reference_parse.py FILE. NaN and +/-Inf are written as the strings "NaN", "+Inf",
"-Inf" because JSON has no such numbers.
"""

import json
import math
import sys

from prometheus_client.parser import text_string_to_metric_families


def encode_number(value):
    if value is None:
        return None
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    return value


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: prom_reference_parse.py FILE")
    with open(sys.argv[1], encoding="utf-8") as handle:
        text = handle.read()
    families = []
    for family in text_string_to_metric_families(text):
        families.append(
            {
                "name": family.name,
                "type": family.type,
                "documentation": family.documentation,
                "unit": family.unit,
                "samples": [
                    {
                        "name": sample.name,
                        "labels": dict(sample.labels),
                        "value": encode_number(sample.value),
                        # prometheus_client divides the written (millisecond) timestamp by 1000.
                        "timestamp": encode_number(sample.timestamp),
                    }
                    for sample in family.samples
                ],
            }
        )
    json.dump(families, sys.stdout, allow_nan=False)


if __name__ == "__main__":
    main()
