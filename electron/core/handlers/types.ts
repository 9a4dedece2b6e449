import type { Output, ParsedInput, RequestName } from '../../../shared/contract.ts';

/** The implementation of some requests of the contract; core.ts checks that together they cover all. */
export type Handlers<K extends RequestName = RequestName> = { [N in K]: (input: ParsedInput<N>) => Promise<Output<N>> };
