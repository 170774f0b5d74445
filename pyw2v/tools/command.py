"""Running a click command under the one-line error contract of :mod:`pyw2v.errors`."""
import click

from ..errors import UserError, run_command


def run_click_command(prog, command, argv=None):
    """Run ``command`` without click's own exit handling; returns the exit status.

    click's usage errors become one ``prog: message`` line (no usage block),
    ``--help`` prints and exits 0, and a :class:`UserError` raised inside the
    command is reported by :func:`run_command`.
    """

    def body():
        try:
            return command.main(args=argv, prog_name=prog, standalone_mode=False)
        except click.exceptions.Exit as done:
            return done.exit_code
        except click.UsageError as exc:
            raise UserError(exc.format_message()) from None
        except click.Abort:
            raise KeyboardInterrupt from None

    return run_command(prog, body)
