import { request, type Page } from './request';
import type { Certificate, IpBlock, SigningKey } from './types';

export const listBlocks = () => request<{ data: IpBlock[] }>('GET', '/v1/blocks');
export const deleteBlock = (ip: string) => request<void>('DELETE', `/v1/blocks/${encodeURIComponent(ip)}`);
export const listSigningKeys = () => request<{ data: SigningKey[] }>('GET', '/v1/signing-keys');
export const rotateSigningKey = () => request<unknown>('POST', '/v1/signing-keys/rotate', { body: {} });
export const listCertificates = () => request<Page<Certificate>>('GET', '/v1/certificates', { query: { limit: 100 } });
export interface IssueCertificateInput {
  clientId?: string;
  commonName?: string;
  csr?: string;
  lifetimeSeconds?: number;
}
export type IssuedCertificate = Certificate & { certificatePem: string; caCertificatePem: string; privateKeyPem: string | null };
export const issueCertificate = (input: IssueCertificateInput) => request<IssuedCertificate>('POST', '/v1/certificates', { body: input });
export const revokeCertificate = (serial: string) => request<unknown>('POST', `/v1/certificates/${encodeURIComponent(serial)}/revoke`, { body: {} });
export interface LeakResult {
  index: number;
  prefix: string | null;
  outcome: 'revoked' | 'already_inactive' | 'not_found' | 'invalid';
  keyId: string | null;
}
export const reportLeakedKeys = (reports: Array<{ token: string; source?: string; url?: string }>) =>
  request<{ data: LeakResult[] }>('POST', '/v1/leaked-keys', { body: reports });
