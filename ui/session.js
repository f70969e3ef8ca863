// What the signed-in page knows besides the mounted view: the last /summary, the key's role,
// the field vocabulary of /meta (attention names most severe first, state names), and the
// server's clock offset. app.js fills it at start; views read it.

export const session = {
  summary: null,
  role: null,
  meta: { attention: [], states: [] },
  clockOffsetMs: 0,  // server time - local time, from the last summary
};

export const serverNow = () => Date.now() + session.clockOffsetMs;
