# Loaded at start-up in LocalStack's own virtualenv (through a .pth file that scripts/setup writes).
# localstack-core 4.13.1 calls uuid.uuid5 with a bytes name in KMS CreateKey, which only Python 3.12+
# accepts; on 3.11 every CreateKey fails with "encoding without a string argument". Same digest as 3.12.
import hashlib
import uuid

_uuid5_for_str = uuid.uuid5


def _uuid5(namespace, name):
    if isinstance(name, bytes):
        return uuid.UUID(bytes=hashlib.sha1(namespace.bytes + name).digest()[:16], version=5)
    return _uuid5_for_str(namespace, name)


uuid.uuid5 = _uuid5
