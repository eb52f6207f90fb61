// Which provisioner a kernelspec names: Jupyter's kernel_provisioner, Enterprise Gateway's
// process_proxy (by class name, config kept), the local default, and names we lack.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { provisionerChoice, ProvisionerRegistry } from '../../../src/kernels/provisioners/registry.js';
import { LocalProvisioner } from '../../../src/kernels/provisioners/local-provisioner.js';
import type { KernelSpec, KernelSpecEntry } from '../../../src/kernels/kernelspecs.js';
import { UnknownProvisionerError } from '../../../src/errors.js';

const spec = (metadata: Record<string, unknown>): KernelSpec => ({ argv: ['python3'], display_name: 'x', language: 'python', env: {}, interrupt_mode: 'signal', metadata });
const entry = (name: string, metadata: Record<string, unknown>): KernelSpecEntry => ({ name, resourceDir: '/nowhere', spec: spec(metadata) });

test('kernel_provisioner, process_proxy and the default', () => {
  assert.deepEqual(provisionerChoice(spec({})), { name: 'local-provisioner', config: {}, from: 'default' });
  assert.deepEqual(provisionerChoice(spec({ kernel_provisioner: { provisioner_name: 'docker-provisioner', config: { image_name: 'img:1' } } })), { name: 'docker-provisioner', config: { image_name: 'img:1' }, from: 'kernel_provisioner' });
  const eg = provisionerChoice(spec({ process_proxy: { class_name: 'enterprise_gateway.services.processproxies.docker_swarm.DockerSwarmProcessProxy', config: { image_name: 'elyra/kernel-py:3.2.3' } } }));
  assert.equal(eg.name, 'docker-swarm-provisioner');
  assert.deepEqual(eg.config, { image_name: 'elyra/kernel-py:3.2.3' });
  assert.equal(provisionerChoice(spec({ process_proxy: { class_name: 'enterprise_gateway.services.processproxies.docker_swarm.DockerProcessProxy' } })).name, 'docker-provisioner');
  assert.equal(provisionerChoice(spec({ process_proxy: { class_name: 'enterprise_gateway.services.processproxies.distributed.DistributedProcessProxy' } })).name, 'distributed-provisioner');
  assert.equal(provisionerChoice(spec({ process_proxy: { class_name: 'my.own.FancyProxy' } })).name, 'my.own.FancyProxy', 'an unknown class keeps its name');
  // kernel_provisioner wins over process_proxy; malformed metadata is the default.
  assert.equal(provisionerChoice(spec({ kernel_provisioner: { provisioner_name: 'local-provisioner' }, process_proxy: { class_name: 'x.DockerProcessProxy' } })).name, 'local-provisioner');
  assert.equal(provisionerChoice(spec({ kernel_provisioner: 'docker', process_proxy: [1] })).name, 'local-provisioner');
});

test('the registry builds what it has and names what it lacks', () => {
  const registry = new ProvisionerRegistry({ 'local-provisioner': () => new LocalProvisioner('/tmp') });
  assert.ok(registry.create(entry('py', {})) instanceof LocalProvisioner);
  assert.equal(registry.problem(entry('py', {})), undefined);
  const yarn = entry('spark', { process_proxy: { class_name: 'enterprise_gateway.services.processproxies.yarn.YarnClusterProcessProxy' } });
  assert.match(registry.problem(yarn)!, /spark uses the process proxy enterprise_gateway\.services\.processproxies\.yarn\.YarnClusterProcessProxy, which this gateway does not have \(it has: local-provisioner\)/);
  assert.throws(() => registry.create(yarn), (err) => err instanceof UnknownProvisionerError && (err as Error).message.includes('YarnClusterProcessProxy'));
  assert.match(registry.problem(entry('k', { kernel_provisioner: { provisioner_name: 'kubernetes-provisioner' } }))!, /uses the provisioner kubernetes-provisioner/);
});
