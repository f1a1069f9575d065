// The load benchmark's reference (tools/load/run.sh): the same slash command
// as slack-sendcontact, written as a Bolt for JS user would write it, so that
// one run measures both on the same core under the same load.
//
//   /sendcontact <chatId> <phone> <firstName> [lastName] [company...]
//
// Bolt's default HTTPReceiver checks the request's signature and timestamp
// (SLACK_SIGNING_SECRET), parses the form and runs the listener, which calls
// GREEN-API's sendContact with Node's built-in fetch (keep-alive by default)
// and acks with the reply. `help` (or nothing) gets the usage, with no
// upstream call. Nothing calls Slack: the bot token is never checked
// (tokenVerificationEnabled: false, with botId and botUserId given, so Bolt
// never runs auth.test), and the reply is the ack itself.
//
// Environment: SLACK_SIGNING_SECRET, PORT (3000), HOST (127.0.0.1),
// GREEN_API_URL, GREEN_API_ID_INSTANCE, GREEN_API_TOKEN_INSTANCE,
// SLACK_BOT_TOKEN (any xoxb- string), LOG_LEVEL (info).
'use strict';

const { App, LogLevel } = require('@slack/bolt');

const env = (name) => {
  const value = process.env[name];
  if (!value) {
    console.error(`${name} is not set`);
    process.exit(2);
  }
  return value;
};

const sendContactUrl =
  `${env('GREEN_API_URL').replace(/\/+$/, '')}/waInstance${env('GREEN_API_ID_INSTANCE')}` +
  `/sendContact/${env('GREEN_API_TOKEN_INSTANCE')}`;
// Slack wants the ack within 3 s; the service's own budget is 2.5 s.
const UPSTREAM_TIMEOUT_MS = 2500;

const app = new App({
  signingSecret: env('SLACK_SIGNING_SECRET'),
  endpoints: '/slack/commands',
  token: process.env.SLACK_BOT_TOKEN || 'xoxb-0000000000-0000000000000-benchmarkbenchmarkbenchmark',
  botId: 'B0000000000',
  botUserId: 'U0000000000',
  tokenVerificationEnabled: false,
  logLevel: (process.env.LOG_LEVEL || 'info').toLowerCase() === 'debug' ? LogLevel.DEBUG : LogLevel.INFO,
});

const USAGE =
  'Usage: `/sendcontact <chatId> <phone> <firstName> [lastName] [company...]`, ' +
  'e.g. `/sendcontact 79876543210@c.us +7 987 654-32-10 Ivan Petrov Acme`';

// Slack's escapes and links in a command's text: `<tel:+7…|+7 …>` shows as
// its label, `<mailto:a@b|a@b>` too, `&amp;` is `&`.
const unescape = (text) =>
  text
    .replace(/<[^|>]*\|([^>]*)>/g, '$1')
    .replace(/<([^>]*)>/g, '$1')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&');

const PHONE_PART = /^[+(]?[\d()\-.]+$/;

// chatId, then the phone (it may be written in groups: `+7 987 654-32-10`),
// then the names: split on whitespace, the simple way.
function parse(text) {
  const words = unescape(text).trim().split(/\s+/).filter(Boolean);
  if (words.length < 3) return null;
  const chatId = words[0];
  let i = 1;
  let digits = '';
  while (i < words.length && PHONE_PART.test(words[i])) {
    digits += words[i].replace(/\D/g, '');
    i += 1;
  }
  if (digits.length < 7 || digits.length > 15 || i >= words.length) return null;
  const contact = { phoneContact: Number(digits), firstName: words[i] };
  if (words[i + 1] !== undefined) contact.lastName = words[i + 1];
  if (words.length > i + 2) contact.company = words.slice(i + 2).join(' ');
  return { chatId, contact };
}

app.command('/sendcontact', async ({ command, ack, logger }) => {
  const text = command.text.trim();
  const lower = text.toLowerCase();
  if (lower === '' || lower === 'help' || lower === '?' || lower === '--help') {
    await ack({ response_type: 'ephemeral', text: USAGE });
    return;
  }
  const send = parse(text);
  if (send === null) {
    await ack({ response_type: 'ephemeral', text: `Not sent: the arguments are wrong. ${USAGE}` });
    return;
  }
  const name = [send.contact.firstName, send.contact.lastName].filter(Boolean).join(' ');
  try {
    const response = await fetch(sendContactUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(send),
      signal: AbortSignal.timeout(UPSTREAM_TIMEOUT_MS),
    });
    const body = await response.json().catch(() => ({}));
    if (!response.ok || typeof body.idMessage !== 'string') {
      await ack({
        response_type: 'ephemeral',
        text: `Not sent: ${name} to ${send.chatId}: GREEN-API answered ${response.status}`,
      });
      return;
    }
    await ack({
      response_type: 'in_channel',
      text: `Sent ${name} (+${send.contact.phoneContact}) to ${send.chatId} by <@${command.user_id}>, id ${body.idMessage}`,
    });
  } catch (error) {
    logger.warn(`sendContact failed: ${error.name}`);
    await ack({ response_type: 'ephemeral', text: `Not sent: ${name} to ${send.chatId}: GREEN-API did not answer` });
  }
});

(async () => {
  const port = Number(process.env.PORT || 3000);
  await app.start({ port, host: process.env.HOST || '127.0.0.1' });
  app.logger.info(`bolt reference listening on ${process.env.HOST || '127.0.0.1'}:${port}`);
})();

// SIGTERM: close the listener and exit, as a container would stop it.
process.on('SIGTERM', () => {
  setTimeout(() => process.exit(0), 1000).unref();
  app.stop().finally(() => process.exit(0));
});
