#!/bin/bash
# Serves /health and the service's pages on the port its target group checks.
set -eu
dnf install -y python3
mkdir -p /srv/app && cd /srv/app
echo ok > health
nohup python3 -m http.server "$(cat /etc/app-port 2>/dev/null || echo 8080)" >/var/log/app.log 2>&1 &
