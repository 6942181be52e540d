"""Run-time settings of the emulator, changed by tests over HTTP
(POST /sra-emulator/config) or at start-up by command-line flags."""
import threading

_lock = threading.Lock()
_settings = {
    # CreateAccount requests stay IN_PROGRESS this long before they finish.
    "create_account_delay_seconds": 0.0,
    # Emails that belong to AWS accounts outside the organization: CreateAccount with
    # one of them ends FAILED with EMAIL_ALREADY_EXISTS, as AWS does.
    "reserved_emails": [],
}


def get(key):
    with _lock:
        return _settings[key]


def snapshot():
    with _lock:
        return dict(_settings)


def update(values):
    unknown = sorted(set(values) - set(_settings))
    if unknown:
        raise KeyError(", ".join(unknown))
    with _lock:
        for key, value in values.items():
            if key == "create_account_delay_seconds":
                value = float(value)
            if key == "reserved_emails":
                value = [str(v).lower() for v in value]
            _settings[key] = value
        return dict(_settings)
