// The TCP sockets a process tree listens on, read from /proc (Linux): the processes of each
// process group, their socket inodes from /proc/<pid>/fd, and the LISTEN rows of /proc/net/tcp{,6}.
import { readdir, readFile, readlink } from 'node:fs/promises';

export interface ListeningSocket {
  pid: number;
  address: string;
  port: number;
}

/** Pids whose process group is one of `leaders`, or that descend from one of them. */
export async function processTree(leaders: readonly number[]): Promise<number[]> {
  const procs: Array<{ pid: number; ppid: number; pgrp: number }> = [];
  for (const name of await readdir('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const stat = await readFile(`/proc/${name}/stat`, 'utf8').catch(() => null);
    if (!stat) continue;
    const [, ppid, pgrp] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    procs.push({ pid: Number(name), ppid: Number(ppid), pgrp: Number(pgrp) });
  }
  const tree = new Set(leaders.filter((pid) => procs.some((p) => p.pid === pid)));
  for (const p of procs) if (leaders.includes(p.pgrp)) tree.add(p.pid);
  for (let grew = true; grew; ) {
    grew = false;
    for (const p of procs) if (tree.has(p.ppid) && !tree.has(p.pid)) (tree.add(p.pid), (grew = true));
  }
  return [...tree].sort((a, b) => a - b);
}

function decodeAddress(hex: string): string {
  const words = hex.match(/.{8}/g)!.map((w) => w.match(/../g)!.reverse().join(''));
  if (words.length === 1) return words[0]!.match(/../g)!.map((b) => parseInt(b, 16)).join('.');
  const full = words.join('');
  if (full.startsWith('00000000000000000000ffff')) return `::ffff:${full.slice(24).match(/../g)!.map((b) => parseInt(b, 16)).join('.')}`;
  return full.match(/.{4}/g)!.map((g) => g.replace(/^0+(?=.)/, '')).join(':').replace(/(^|:)(0(:|$)){2,}/, '::');
}

/** Every listening TCP socket the processes own. */
export async function listeningSockets(pids: readonly number[]): Promise<ListeningSocket[]> {
  const owner = new Map<string, number>();
  for (const pid of pids) {
    const fds = await readdir(`/proc/${pid}/fd`).catch(() => [] as string[]);
    for (const fd of fds) {
      const link = await readlink(`/proc/${pid}/fd/${fd}`).catch(() => '');
      const inode = /^socket:\[(\d+)\]$/.exec(link)?.[1];
      if (inode) owner.set(inode, pid);
    }
  }
  const sockets: ListeningSocket[] = [];
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    for (const line of (await readFile(table, 'utf8')).split('\n').slice(1)) {
      const cols = line.trim().split(/\s+/);
      if (cols.length < 10 || cols[3] !== '0A') continue; // 0A: LISTEN
      const pid = owner.get(cols[9]!);
      if (pid === undefined) continue;
      const [hex, port] = cols[1]!.split(':');
      sockets.push({ pid, address: decodeAddress(hex!), port: parseInt(port!, 16) });
    }
  }
  return sockets;
}

export const isLoopback = (address: string): boolean => address === '::1' || /^(::ffff:)?127\./.test(address);
