// An example personality plug-in for `--api`: the smallest useful one. It keeps one kernel,
// started before the gateway serves (so it is seeded by seed_uri like any new kernel), and
// answers GET /hello/:name with what that kernel prints for `greet(name)`: a seed notebook may
// define greet(), else a default one is. Seed cells marked `# hello: skip` are left out of
// seeding (shouldSeedCell). Its one option, HelloPersonality.greeting, is what the default
// greet() says; it is set like any of the gateway's options. Python kernels only. See
// examples/README.md.
//
//   kernel-gateway --api=./dist/examples/hello-personality.js --seed_uri=greeting.ipynb
//   kernel-gateway --api=./dist/examples/hello-personality.js --HelloPersonality.greeting=howdy
import type { FastifyInstance } from 'fastify';
import { executeCode, type CreatePersonality, type Personality, type PersonalityContext, type PersonalityOptions, type RunningKernel } from 'kernel-gateway';

interface HelloConfig {
  greeting: string;
}

/** Read by the gateway before its config: --HelloPersonality.greeting, KG_HELLO_GREETING, the config file. */
export const personalityOptions: PersonalityOptions = {
  section: 'HelloPersonality',
  defaults: (): HelloConfig => ({ greeting: 'hello' }),
  options: [{ name: 'greeting', type: 'string', env: 'KG_HELLO_GREETING', help: 'What the default greet() says before the name.' }],
};

class HelloPersonality implements Personality {
  private kernel?: RunningKernel;

  constructor(private readonly ctx: PersonalityContext) {}

  /** Runs before the gateway listens: a failure here stops start-up with its message. */
  async init(): Promise<void> {
    this.kernel = await this.ctx.kernels.start();
    // The greeting goes in as a JSON string literal (valid Python too), never pasted in as code.
    const { greeting: text } = (this.ctx.config as unknown as { HelloPersonality: HelloConfig }).HelloPersonality;
    const greeting = JSON.stringify(text);
    const fallback = await executeCode(this.kernel, `try:\n    greet\nexcept NameError:\n    def greet(name):\n        return ${greeting} + ', ' + name\n`);
    if (fallback.status !== 'ok') throw new Error(`the ${this.kernel.name} kernel could not define greet(): ${fallback.error?.evalue ?? fallback.status}`);
    this.ctx.log.info(`hello personality: kernel ${this.kernel.id} (${this.kernel.name}) ready`);
  }

  /** Routes are mounted under base_url, behind the gateway's auth token, CORS and origin checks. */
  routes(app: FastifyInstance): void {
    app.get<{ Params: { name: string } }>('/hello/:name', async (req, reply) => {
      const kernel = this.kernel;
      if (!kernel) return reply.code(503).send({ reason: 'Service Unavailable', message: 'No kernel yet' });
      // The name goes in as a JSON string literal (valid Python too), never pasted in as code.
      const outcome = await executeCode(kernel, `print(greet(${JSON.stringify(req.params.name)}))`, { timeoutMs: 30_000 });
      if (outcome.status !== 'ok') {
        const err = outcome.error;
        return reply.code(500).send({ reason: 'Internal Server Error', message: err ? `${err.ename}: ${err.evalue}` : outcome.status });
      }
      return reply.type('text/plain; charset=utf-8').send(outcome.stdout);
    });
  }

  /** Seed notebook cells with this marker are not run in new kernels. */
  shouldSeedCell(code: string): boolean {
    return !code.includes('# hello: skip');
  }

  /** The gateway ends every kernel after this; a personality only releases its own things. */
  async shutdown(): Promise<void> {
    this.kernel = undefined;
  }
}

export const createPersonality: CreatePersonality = (ctx) => new HelloPersonality(ctx);
