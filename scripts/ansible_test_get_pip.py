# Stand-in for ansible-test's get-pip bootstrap, copied into ~/.ansible/test/cache by scripts/setup.
# ansible-test runs it inside a fresh virtualenv with pip's own arguments (pip==VERSION, --no-setuptools, ...).
import os
import subprocess
import sys

pip_args = [arg for arg in sys.argv[1:] if arg not in ("--no-setuptools", "--no-wheel")]
# ensurepip points PIP_CONFIG_FILE at /dev/null; never let that leak into the real install below.
clean_env = {key: value for key, value in os.environ.items() if key != "PIP_CONFIG_FILE"}
subprocess.check_call([sys.executable, "-m", "ensurepip", "--default-pip"], env=clean_env, stdout=subprocess.DEVNULL)
subprocess.check_call([sys.executable, "-m", "pip", "install", "--quiet"] + pip_args, env=clean_env)
