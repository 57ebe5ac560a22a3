"""Typed domain errors: callers catch these by kind, never by message."""


class DomainError(Exception):
    """Base of every rule the model refuses to break."""


class IllegalTransition(DomainError):
    """A lifecycle command asked for a move the state machine does not allow."""

    def __init__(self, from_status: str, to_status: str, action: str) -> None:
        super().__init__(f"cannot {action}: illegal transition {from_status} -> {to_status}")
        self.from_status = from_status
        self.to_status = to_status
        self.action = action


class InvalidStrategy(DomainError):
    """A strategy definition, its parameters or a fact about it (a backtest) is malformed."""


class CorruptStream(DomainError):
    """Stored events cannot rebuild an aggregate: wrong first event, foreign or unknown events."""


class InvalidSignal(DomainError):
    """A strategy produced a signal the system must not trade on."""


class InvalidTradingRecord(DomainError):
    """A fill, position, trade or price that cannot exist (non-positive size, naive time ...)."""


class InvalidOrder(InvalidTradingRecord):
    """An order that must not reach an exchange."""


class InvalidRiskPolicy(DomainError):
    """Risk limits outside their meaningful ranges; refused when the policy is built."""


class RiskLimitBreached(DomainError):
    """A new position is refused by the risk policy; `reason` says which limit."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason
