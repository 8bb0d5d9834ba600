#!/usr/bin/env bash
# Adds or updates one MQTT broker credential in a Mosquitto password file.
#
# Usage:
#   devices/provision-device.sh <password-file> <device-id> [password]
#   devices/provision-device.sh <password-file> threeflow-ingest [password]
#
#   <password-file>  the file named by password_file in mosquitto.conf; created when missing
#   <device-id>      the device's id: a lower-case UUID, which is also its MQTT username and
#                    client id. The name `threeflow-ingest` provisions the platform's ingest
#                    user instead (it reads every device topic; see devices/mosquitto/acl).
#   [password]       the broker password: for a device, the broker.password threeflow returned
#                    when it was registered (POST /v1/devices). When omitted (and BROKER_PASSWORD
#                    is unset) a random one is generated and printed once. An argument stays in
#                    your shell history: prefer BROKER_PASSWORD=...
#
# Environment:
#   BROKER_PASSWORD     the password, instead of the third argument
#   MOSQUITTO_PASSWD    the mosquitto_passwd binary (default: mosquitto_passwd on PATH)
#   QUIET=1             print only the password (for scripts)
#
# Running it again for the same id replaces that id's password (the old one stops working
# once the broker reloads). It never touches other lines of the file.
#
# The broker password only lets the device connect. Its HMAC signing secret is a different
# value, also returned by the registration (see devices/README.md, "Provisioning a device").
set -euo pipefail

usage() {
  # the comment block at the top of this file
  awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0" >&2
  exit 2
}

[[ $# -ge 2 && $# -le 3 ]] || usage
passwd_file=$1
device_id=$2
password=${3:-${BROKER_PASSWORD:-}}
mosquitto_passwd=${MOSQUITTO_PASSWD:-mosquitto_passwd}

uuid_re='^[0-9a-f]{8}-[0-9a-f]{4}-[1-8][0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$'
if [[ $device_id == threeflow-ingest ]]; then
  kind=ingest
elif [[ $device_id =~ $uuid_re ]]; then
  kind=device
else
  echo "error: '$device_id' is not a lower-case UUID (device ids are UUIDs, e.g. 0f8fad5b-d9cb-469f-a165-70867728950e) nor threeflow-ingest" >&2
  exit 2
fi

if ! command -v "$mosquitto_passwd" >/dev/null 2>&1; then
  echo "error: $mosquitto_passwd not found (install the mosquitto package, or set MOSQUITTO_PASSWD)" >&2
  exit 1
fi

generated=false
if [[ -z $password ]]; then
  # 24 random bytes as URL-safe base64: 32 characters, no ':' or whitespace.
  password=$(head -c 24 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=\n')
  generated=true
fi
if [[ $password == *:* || $password =~ [[:space:]] ]]; then
  echo "error: the password must not contain ':' or whitespace" >&2
  exit 2
fi

mkdir -p "$(dirname -- "$passwd_file")"
if [[ ! -e $passwd_file ]]; then
  # Readable by the broker only: Mosquitto started as root drops to the `mosquitto` user
  # before it reads this file, so give that group read access.
  (umask 027 && : >"$passwd_file")
  if [[ $(id -u) == 0 ]] && getent group mosquitto >/dev/null 2>&1; then
    chgrp mosquitto "$passwd_file"
  fi
  created=true
else
  created=false
fi
# -b takes the password from the command line; mosquitto_passwd hashes it (sha512-pbkdf2).
"$mosquitto_passwd" -b "$passwd_file" "$device_id" "$password" >/dev/null

if [[ ${QUIET:-} == 1 ]]; then
  [[ $generated == true ]] && printf '%s\n' "$password"
  exit 0
fi

$created && echo "Created $passwd_file."
echo "Set the broker password of $device_id in $passwd_file."
if $generated; then
  echo
  echo "  password: $password"
  echo
  echo "It is shown only this once: store it now (only its hash is in the file)."
fi
echo
echo "Next:"
echo "  1. Make the broker re-read the file:  kill -HUP <mosquitto pid>   (or: systemctl reload mosquitto)"
if [[ $kind == device ]]; then
  echo "  2. The device must be registered in threeflow (POST /v1/devices), which gave its id and"
  echo "     signing secret; otherwise every message it sends is quarantined as unknown_device."
  echo "  3. Configure the device: MQTT username and client id = $device_id, this broker password,"
  echo "     the signing secret, and publish to tf/v1/devices/$device_id/{kind} with QoS 1,"
  echo "     clean session false. See devices/README.md."
else
  echo "  2. Give the ingest workers MQTT_USERNAME=threeflow-ingest and MQTT_PASSWORD=<the password>,"
  echo "     and point MQTT_URL at the platform listener (see devices/mosquitto/mosquitto.conf)."
fi
