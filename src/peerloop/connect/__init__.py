"""The outside world (CalDAV, e-mail, busy-time feeds): imported only by the commands that connect."""
