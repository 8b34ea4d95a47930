#!/bin/bash
# Boot script of a receiver: answers on 8080, with a health check path.
set -euo pipefail
mkdir -p /srv/receiver && cd /srv/receiver
echo "ok" > health
nohup python3 -m http.server 8080 >/var/log/receiver.log 2>&1 &
