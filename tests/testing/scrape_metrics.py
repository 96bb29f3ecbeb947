#!/usr/bin/python3
"""Scrapes a Prometheus endpoint and parses it with Prometheus' own Python client parser
(Debian: python3-prometheus-client), as a scraper would; prints one JSON object:
{"status": HTTP status, "content_type": ..., "families": {name: type},
 "samples": [[name, {labels}, value], ...]}. A parse error is exit code 2, with the reason.

Usage: scrape_metrics.py URL [--cert F --key F --cacert F]
"""
import json
import ssl
import sys
import urllib.error
import urllib.request

from prometheus_client.parser import text_string_to_metric_families


def main(argv):
    url = argv[1]
    options = dict(zip(argv[2::2], argv[3::2]))
    context = None
    if url.startswith("https:"):
        context = ssl.create_default_context(cafile=options.get("--cacert"))
        context.check_hostname = False  # the SVM certificate names its own hosts
        if "--cert" in options:
            context.load_cert_chain(options["--cert"], options["--key"])
    try:
        with urllib.request.urlopen(url, context=context, timeout=30) as response:
            status, content_type = response.status, response.headers.get("Content-Type", "")
            body = response.read().decode("utf-8")
    except urllib.error.HTTPError as error:
        print(json.dumps({"status": error.code, "content_type": "", "families": {},
                          "samples": []}))
        return 0
    families, samples = {}, []
    try:
        for family in text_string_to_metric_families(body):
            families[family.name] = family.type
            for sample in family.samples:
                samples.append([sample.name, sample.labels, sample.value])
    except Exception as error:  # the parser's ValueError, or anything else it trips on
        print("parse error: %s\n%s" % (error, body), file=sys.stderr)
        return 2
    print(json.dumps({"status": status, "content_type": content_type, "families": families,
                      "samples": samples}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
