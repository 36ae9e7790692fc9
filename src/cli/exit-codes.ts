/** Exit status: the run recovered (or the command worked). */
export const EXIT_OK = 0;
/** The run ended recovered with exceptions, failed or aborted, or the command could not do what was asked. */
export const EXIT_FAILED = 1;
/** Bad usage: unknown command, option or scenario, a malformed value. */
export const EXIT_USAGE = 2;
