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
    # A new delegated administrator is accepted by the service this long after
    # Organizations registered it (AWS propagates delegation; "not the delegated
    # administrator" answers come first). Applies to IAM Access Analyzer's
    # organization analyzer.
    "delegation_delay_seconds": 0.0,
    # A role is usable by a service (AWS Config) this long after IAM created it
    # (IAM is eventually consistent): InvalidRoleException before.
    "role_delay_seconds": 0.0,
    # For this long after CreateOrganization, CreateAccount answers
    # FinalizingOrganizationException (AWS: "This can take up to an hour").
    "finalizing_seconds": 0.0,
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
            if key in ("create_account_delay_seconds", "delegation_delay_seconds", "role_delay_seconds", "finalizing_seconds"):
                value = float(value)
            if key == "reserved_emails":
                value = [str(v).lower() for v in value]
            _settings[key] = value
        return dict(_settings)
