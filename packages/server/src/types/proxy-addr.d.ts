declare module 'proxy-addr' {
  /** Compiles a trust list (addresses, CIDRs, `loopback`, `linklocal`, `uniquelocal`) into a predicate. */
  export function compile(trust: string | string[]): (address: string, hop: number) => boolean;
}
