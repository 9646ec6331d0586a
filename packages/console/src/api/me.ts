import { request } from './request';
import type { Me } from './types';

/** Who the console is signed in as: GET /v1/me. */
export const getMe = () => request<Me>('GET', '/v1/me');
