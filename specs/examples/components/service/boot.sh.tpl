#!/bin/bash
# The ${name} service: answers /health and ${path} on port ${port}, the port its
# target group checks. Rendered by `templatefile` in component.yaml.
set -eu
dnf install -y python3
mkdir -p /srv/app${path} && cd /srv/app
echo ok > health
echo "${name}" > .${path}index.html
nohup python3 -m http.server ${port} >/var/log/app.log 2>&1 &
