/**
 * The host's end of a pseudo-terminal pair opened directly, without a driver, so that a test sees
 * what a simulator (or the pair itself) does on its own.
 */
import { SerialPort } from 'serialport';

/** Opens `path` at `baudRate`; rejects with the port's error when it cannot. */
export function openHost(path: string, baudRate = 9600): Promise<SerialPort> {
  return new Promise((resolve, reject) => {
    const port = new SerialPort({ path, baudRate, autoOpen: false });
    port.open((error) => (error ? reject(error) : resolve(port)));
  });
}

/** Closes the port if it is still open. */
export function closeHost(port: SerialPort): Promise<void> {
  return new Promise((resolve) => (port.isOpen ? port.close(() => resolve()) : resolve()));
}
