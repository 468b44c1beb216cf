"""Scoring script whose init() starts a daemon the classic way: fork, setsid(), fork again, and
exec a long sleep with an empty environment (so no marker variable follows it). The daemon
writes its pid to $DAEMON_PID_FILE first; the test checks that smoke left it dead."""

import json
import os


def init():
    pid_file = os.environ["DAEMON_PID_FILE"]
    first = os.fork()
    if first == 0:  # the intermediate child: a new session, then the daemon, then exit
        os.setsid()
        if os.fork() == 0:
            with open(pid_file + ".tmp", "w") as fh:
                fh.write(str(os.getpid()))
            os.replace(pid_file + ".tmp", pid_file)
            os.execve("/bin/sleep", ["sleep", "600"], {})
        os._exit(0)
    os.waitpid(first, 0)
    for _ in range(100):  # wait until the daemon has written its pid
        if os.path.exists(pid_file):
            break
        __import__("time").sleep(0.05)


def run(raw_data):
    return json.loads(raw_data)["data"]
