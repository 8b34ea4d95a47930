#!/bin/bash
# Boot script of the web tier: a tiny HTTP service on 8080 answering the health check.
set -euo pipefail
mkdir -p /srv/web
echo "ok" > /srv/web/health
echo "hello from $(hostname)" > /srv/web/index.html
cd /srv/web && nohup python3 -m http.server 8080 >/var/log/web.log 2>&1 &
