"""What zeep makes of each WSDL of the generator's corpus (xtask/tests/corpus).

Usage: check_corpus.py CORPUS_DIR
Output: a JSON object, file name -> {"operations": N, "error": null} when zeep loads the
document (N = operations of its SOAP bindings), or {"operations": 0, "error": "..."} when it
does not. Offline: remote imports fail, as they would for the generator.
"""

import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from payamak_zeep import load_client  # noqa: E402


def soap_operations(client):
    count = 0
    for service in client.wsdl.services.values():
        for port in service.ports.values():
            binding = port.binding
            if type(binding).__name__ in ("Soap11Binding", "Soap12Binding"):
                count += len(binding._operations)
    return count


def main():
    corpus = sys.argv[1]
    results = {}
    for name in sorted(os.listdir(corpus)):
        if not name.endswith(".wsdl"):
            continue
        try:
            client = load_client(os.path.join(corpus, name))
            results[name] = {"operations": soap_operations(client), "error": None}
        except Exception as error:  # noqa: BLE001 - every failure is a verdict
            results[name] = {"operations": 0, "error": f"{type(error).__name__}: {error}"[:300]}
    json.dump(results, sys.stdout, indent=1, sort_keys=True)


if __name__ == "__main__":
    main()
